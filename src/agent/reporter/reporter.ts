import type { Logger } from 'pino';
import type { AgentTelemetry, ReportKind } from '../telemetry.js';
import { backoffDelay } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { CircuitBreaker } from './breaker.js';
import type { BreakerState } from './breaker.js';
import { TransportError } from './transport.js';
import type { Transport } from './transport.js';
import { ErrorResponseSchema } from '../../api/lb/wire.js';
import type { RegisterRequest, StatsRequest } from '../../api/lb/wire.js';

/** How one send ended. */
export type SendOutcome =
  | { kind: 'ok' }
  /** /stats answered 404: the server does not know this client (restarted with a fresh database, purged). */
  | { kind: 'unknown-client' }
  /** The server refused the body (4xx other than 404/408/429): retrying the same body cannot help. */
  | { kind: 'rejected'; status: number; error: string }
  /** All attempts failed, or the circuit is open. */
  | { kind: 'failed'; reason: string }
  | { kind: 'aborted' };

export interface ReporterOptions {
  transport: Transport;
  logger: Logger;
  now: () => number;
  /** Waits `ms`, resolving early when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  telemetry?: AgentTelemetry;
  /** Attempts per send (default 5). */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  breakerThreshold?: number;
  breakerOpenMs?: number;
}

function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Sends /register and /stats with retries (exponential backoff with jitter) behind a circuit
 * breaker. Never throws for network or server trouble; every failure becomes an outcome.
 */
export class Reporter {
  readonly breaker: CircuitBreaker;
  private registered = false;

  constructor(private readonly opts: ReporterOptions) {
    this.breaker = new CircuitBreaker({
      threshold: opts.breakerThreshold ?? 5,
      openMs: opts.breakerOpenMs ?? 30_000,
      now: opts.now,
      onChange: (from, to, failures) => this.onBreaker(from, to, failures),
    });
  }

  get isRegistered(): boolean {
    return this.registered;
  }

  private onBreaker(from: BreakerState, to: BreakerState, failures: number): void {
    this.opts.telemetry?.setBreaker(to);
    const log = this.opts.logger;
    if (to === 'open') {
      log.warn(
        { from, to, consecutiveFailures: failures, retryInSeconds: Math.round((this.opts.breakerOpenMs ?? 30_000) / 1000) },
        'circuit breaker open: server unreachable, pausing reports',
      );
    } else if (to === 'half-open') log.info({ from, to }, 'circuit breaker half-open: trying the server again');
    else log.info({ from, to }, 'circuit breaker closed: server reachable again');
  }

  private failed(kind: ReportKind, reason: string): void {
    this.opts.telemetry?.reportFailed(kind, reason);
  }

  /** One request with up to `maxAttempts` attempts. */
  async send(kind: ReportKind, body: RegisterRequest | StatsRequest, signal: AbortSignal): Promise<SendOutcome> {
    const path = kind === 'register' ? '/register' : '/stats';
    const max = this.opts.maxAttempts ?? 5;
    let lastReason = '';
    for (let attempt = 0; attempt < max; attempt++) {
      if (signal.aborted) return { kind: 'aborted' };
      if (!this.breaker.allow()) {
        this.failed(kind, 'circuit_open');
        return { kind: 'failed', reason: `circuit open (last error: ${lastReason || 'earlier failures'})` };
      }
      let reasonLabel: string;
      try {
        const res = await this.opts.transport.post(path, body, signal);
        if (res.status >= 200 && res.status < 300) {
          this.breaker.success();
          this.opts.telemetry?.reportSent(kind);
          return { kind: 'ok' };
        }
        if (!isRetryableStatus(res.status)) {
          // The server answered, so it is up: that counts as success for the breaker.
          this.breaker.success();
          if (kind === 'stats' && res.status === 404) {
            this.failed(kind, 'http_404');
            return { kind: 'unknown-client' };
          }
          const parsed = ErrorResponseSchema.safeParse(res.body);
          const error = parsed.success ? parsed.data.error + (parsed.data.field ? ` (${parsed.data.field})` : '') : '';
          this.failed(kind, 'http_4xx');
          return { kind: 'rejected', status: res.status, error };
        }
        lastReason = `HTTP ${res.status}`;
        reasonLabel = res.status >= 500 ? 'http_5xx' : `http_${res.status}`;
      } catch (e) {
        if (e instanceof TransportError && e.kind === 'aborted') return { kind: 'aborted' };
        lastReason = e instanceof Error ? e.message : String(e);
        reasonLabel = e instanceof TransportError ? e.kind : 'network';
      }
      this.breaker.failure();
      this.failed(kind, reasonLabel);
      if (attempt + 1 < max) {
        const delay = backoffDelay(attempt, this.opts.backoff, this.opts.random);
        this.opts.logger.debug({ kind, attempt: attempt + 1, reason: lastReason, retryInMs: delay }, 'report attempt failed');
        await this.opts.sleep(delay, signal);
      }
    }
    return { kind: 'failed', reason: lastReason };
  }

  /**
   * One report cycle: registers first when not registered yet, then sends stats; a 404 from
   * /stats re-registers and sends the stats once more. Returns the stats outcome (or the
   * register outcome when registering failed).
   */
  async cycle(
    makeRegister: () => RegisterRequest,
    makeStats: () => StatsRequest,
    signal: AbortSignal,
  ): Promise<SendOutcome> {
    const log = this.opts.logger;
    if (!this.registered) {
      const r = await this.register(makeRegister(), signal);
      if (r.kind !== 'ok') return r;
    }
    let s = await this.send('stats', makeStats(), signal);
    if (s.kind === 'unknown-client') {
      log.warn('server does not know this client (404 on /stats); registering again');
      this.registered = false;
      const r = await this.register(makeRegister(), signal);
      if (r.kind !== 'ok') return r;
      s = await this.send('stats', makeStats(), signal);
    }
    if (s.kind === 'ok') this.opts.telemetry?.lastReport(this.opts.now() / 1000);
    else if (s.kind === 'rejected') log.error({ status: s.status, error: s.error }, 'server rejected stats report');
    else if (s.kind === 'failed') log.warn({ reason: s.reason }, 'stats report failed');
    return s;
  }

  async register(body: RegisterRequest, signal: AbortSignal): Promise<SendOutcome> {
    const log = this.opts.logger;
    const r = await this.send('register', body, signal);
    if (r.kind === 'ok') {
      this.registered = true;
      log.info({ client_id: body.client_id, endpoint_url: body.endpoint_url }, 'registered with server');
    } else if (r.kind === 'rejected') log.error({ status: r.status, error: r.error }, 'server rejected registration');
    else if (r.kind === 'failed') log.warn({ reason: r.reason }, 'registration failed');
    return r;
  }
}
