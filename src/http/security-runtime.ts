import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { ServerConfig } from '../config/server.js';
import { TIER_NAME_RE } from '../config/tiers.js';
import { HttpError, sendJson } from './errors.js';
import { createKeyChecker, type KeyChecker } from '../auth/api-key.js';
import { requestLogLevel } from './stages/request-log.js';
import type { PipelineSlots } from './slots.js';
import { deferHeaders } from './response.js';
import type { Stage } from './pipeline.js';
import { resolveClientIp } from './client-address.js';
import { corsDecision } from './stages/cors.js';
import { isValidHost } from './stages/host.js';
import { connectionClose, requestAuthority } from './http2.js';
import { normalizeRequestPath, splitTarget } from './path.js';
import { compileSecurityPolicy, type SecurityPolicy } from './policy.js';
import { rateLimitHeaders, TokenBucketLimiter } from './stages/rate-limit.js';
import type { Reloadable } from './reload.js';
import {
  allowListStage,
  chainStages,
  hostValidationStage,
  rateLimitStage,
  securityHeadersStage,
  timeoutStage,
  type LiveSecurity,
  type TimerFns,
} from './stages/security.js';

/** A handler for requests outside the management paths (the proxy); false = not taken (404). */
export type FallbackFn = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface SecurityRuntimeOptions {
  config: ServerConfig;
  /** Serving HTTPS (adds HSTS). */
  https: boolean;
  logger: Logger;
  registry?: Registry;
  now?: () => number;
  timers?: TimerFns;
  /** Most rate-limit buckets per limiter (default 100 000). */
  maxBuckets?: number;
  /** Sweep period of idle rate-limit buckets in ms (default 60 000; 0 = none). */
  sweepIntervalMs?: number;
}


/** A short id tying a 500 answer to its log line. */
export function newRequestId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * Everything the hardening adds to a running server, live-reloadable:
 * - the management pipeline's slots (security headers, timeout + Host validation, allow-list, rate limit,
 *   API key), see `slots()`;
 * - the front of proxied traffic (CORS → crash containment → security headers → request log → Host and path
 *   validation → rate limit), see `wrapFallback()` and `guardUpgrade()`;
 * - `reloadable()`, the component the SIGHUP reloader calls to swap the policy, limits and keys.
 */
export class SecurityRuntime implements LiveSecurity {
  private current: SecurityPolicy;
  private keys: KeyChecker | null;
  private agentKey: KeyChecker | null;
  private readonly mgmtLimiter: TokenBucketLimiter;
  private readonly proxyLimiter: TokenBucketLimiter;
  private readonly logger: Logger;
  private readonly timers: TimerFns | undefined;
  private readonly sweeper: NodeJS.Timeout | null = null;
  private readonly rateLimited: Counter<'pipeline'> | null;
  private readonly denied: Counter<'reason'> | null;
  readonly unhandledRejections: Counter | null;
  readonly https: boolean;

  constructor(opts: SecurityRuntimeOptions) {
    this.https = opts.https;
    this.logger = opts.logger;
    this.timers = opts.timers;
    this.current = compileSecurityPolicy(opts.config, { https: opts.https });
    this.keys = createKeyChecker(opts.config);
    this.agentKey = createKeyChecker({ server_key: opts.config.server_key, api_keys: [] });
    const rl = { ...this.current.rateLimit, now: opts.now, maxBuckets: opts.maxBuckets };
    this.mgmtLimiter = new TokenBucketLimiter(rl);
    this.proxyLimiter = new TokenBucketLimiter(rl);
    const reg = opts.registry;
    this.rateLimited = reg ? new Counter({ name: 'vantage_rate_limited_total', help: 'Requests answered 429 by the per-IP rate limit.', labelNames: ['pipeline'], registers: [reg] }) : null;
    this.denied = reg ? new Counter({ name: 'vantage_requests_denied_total', help: 'Requests refused by the IP allow-list or Host validation.', labelNames: ['reason'], registers: [reg] }) : null;
    this.unhandledRejections = reg ? new Counter({ name: 'vantage_unhandled_rejections_total', help: 'Unhandled promise rejections (logged, not fatal unless exit_on_unhandled_rejection).', registers: [reg] }) : null;
    const every = opts.sweepIntervalMs ?? 60_000;
    if (every > 0) {
      this.sweeper = setInterval(() => {
        this.mgmtLimiter.sweep();
        this.proxyLimiter.sweep();
      }, every);
      this.sweeper.unref();
    }
  }

  // ------------------------------------------------------------------ LiveSecurity

  policy(): SecurityPolicy {
    return this.current;
  }

  limiter(): TokenBucketLimiter {
    return this.mgmtLimiter;
  }

  /** The limiter of proxied traffic (separate buckets from the management API's). */
  proxyRateLimiter(): TokenBucketLimiter {
    return this.proxyLimiter;
  }

  isAgent(req: IncomingMessage): boolean {
    return this.agentKey !== null && this.agentKey(req.headers['x-api-key'], req.socket) === 'server';
  }

  onRateLimited(pipeline: 'management' | 'proxy'): void {
    this.rateLimited?.inc({ pipeline });
  }

  onDenied(reason: 'allow_list' | 'host'): void {
    this.denied?.inc({ reason });
  }

  // ------------------------------------------------------------------ management pipeline

  /** API-key stage reading the live keys (401 missing, 403 wrong; compared in constant time). */
  private apiKeyStage(): Stage {
    return (ctx, next) => {
      const check = this.keys;
      if (check === null || !ctx.route.auth) return next();
      const r = check(ctx.req.headers['x-api-key'], ctx.req.socket);
      if (r === 'missing') throw new HttpError(401, 'API key required: send it in the X-API-Key header', { field: 'X-API-Key' });
      if (r === 'wrong') throw new HttpError(403, 'invalid API key', { field: 'X-API-Key' });
      ctx.auth = r;
      return next();
    };
  }

  /** The management pipeline's hardening slots. */
  slots(): PipelineSlots {
    return {
      securityHeaders: securityHeadersStage(this),
      timeout: chainStages(timeoutStage(this, this.timers), hostValidationStage(this)),
      allowList: allowListStage(this),
      rateLimit: rateLimitStage(this),
      apiKey: this.apiKeyStage(),
    };
  }

  /** Whether an X-API-Key is currently required (for the startup summary). */
  authEnabled(): boolean {
    return this.keys !== null;
  }

  /** Checks an X-API-Key header against the live keys (for the monitoring web API): true, or why not. */
  checkApiKey(header: string | string[] | undefined): true | 'missing' | 'wrong' {
    const check = this.keys;
    if (check === null) return true;
    const r = check(header);
    return r === 'server' || r === 'api' ? true : r;
  }

  // ------------------------------------------------------------------ proxied traffic

  /**
   * Wraps the handler of non-management paths (the reverse proxy) in the proxied-traffic pipeline:
   * CORS (when enabled) → crash containment → security headers → request log → Host and path validation →
   * rate limit → `fn`. Body limit and timeout (SSE/WebSocket exempt) are the proxy's own. No API key, ever.
   * With `fn` null, requests still get the headers and checks, then 404 (return false).
   */
  wrapFallback(fn: FallbackFn | null): FallbackFn {
    return (req, res) => {
      const p = this.current;
      if (p.cors.enabled) {
        const h = req.headers;
        const d = corsDecision(p.cors, {
          method: req.method ?? 'GET',
          origin: h.origin,
          requestMethod: h['access-control-request-method'] as string | undefined,
          requestHeaders: h['access-control-request-headers'] as string | undefined,
        });
        if (d.kind === 'preflight' || d.kind === 'reject') {
          deferHeaders(res, p.headers);
          for (const k in d.headers) res.setHeader(k, d.headers[k]!);
          if (d.kind === 'reject') sendJson(res, 403, { error: d.error });
          else {
            res.writeHead(204, { 'content-length': '0' });
            res.end();
          }
          return true;
        }
        if (d.kind === 'actual') for (const k in d.headers) res.setHeader(k, d.headers[k]!);
      }
      try {
        return this.frontChecks(fn, req, res, p);
      } catch (err) {
        this.internalError(err, req, res);
        return true;
      }
    };
  }

  private frontChecks(fn: FallbackFn | null, req: IncomingMessage, res: ServerResponse, p: SecurityPolicy): boolean | Promise<boolean> {
    deferHeaders(res, p.headers);
    const started = performance.now();
    const ip = resolveClientIp(req.socket.remoteAddress, p.trustedProxies.size > 0 ? req.headers['x-forwarded-for'] : undefined, p.trustedProxies);
    res.once('finish', () => {
      const status = res.statusCode;
      const level = requestLogLevel(status);
      if (!this.logger.isLevelEnabled(level)) return;
      const ms = performance.now() - started;
      this.logger[level]({ method: req.method, path: splitTarget(req.url ?? '/').path.slice(0, 200), status, ms: Math.round(ms * 1000) / 1000, ip, proxied: true }, 'request');
    });
    const refusal = this.refuse(req, p, ip, 'proxy');
    if (refusal !== null) {
      sendJson(res, refusal.status, { error: refusal.error, ...(refusal.field ? { field: refusal.field } : {}) }, refusal.headers);
      return true;
    }
    if (fn === null) return false;
    const r = fn(req, res);
    if (r instanceof Promise) {
      return r.catch((err: unknown) => {
        this.internalError(err, req, res);
        return true;
      });
    }
    return r;
  }

  /** Host, path and rate-limit checks shared by proxied requests and WebSocket upgrades. */
  private refuse(
    req: IncomingMessage,
    p: SecurityPolicy,
    ip: string,
    pipeline: 'proxy',
  ): { status: number; error: string; field?: string; headers?: Record<string, string> } | null {
    const host = requestAuthority(req); // Host, or HTTP/2's :authority
    if (host !== undefined && !isValidHost(host)) {
      this.onDenied('host');
      return { status: 400, error: 'invalid Host header: expected a host name or IP address with an optional port', field: 'host' };
    }
    const { path, query } = splitTarget(req.url ?? '/');
    const tierProblem = checkTierInputs(req, query, p.tierHeader);
    if (tierProblem !== null) return { status: 400, error: tierProblem, field: 'tier' };
    // Absolute-form targets ("http://host/path") are reduced to their path by the proxy; check that path.
    const target = path.startsWith('/') ? path : pathOfAbsolute(path);
    const v = normalizeRequestPath(target);
    if (!v.ok) return { status: 400, error: v.message, field: 'path' };
    const d = this.proxyLimiter.take(ip);
    if (!d.allowed) {
      this.onRateLimited(pipeline);
      return {
        status: 429,
        error: `rate limit exceeded for ${ip}: retry in ${d.retryAfterSeconds} s (rate_limit_per_minute: ${p.rateLimit.perMinute}, rate_limit_burst: ${p.rateLimit.burst})`,
        headers: { ...rateLimitHeaders(d, p.rateLimit), ...connectionClose(req) },
      };
    }
    return null;
  }

  /**
   * Checks an Upgrade (WebSocket) request before it is proxied: Host, path and rate limit. Returns false after
   * answering on the socket when refused.
   */
  guardUpgrade(req: IncomingMessage, socket: Duplex): boolean {
    const p = this.current;
    const ip = resolveClientIp(req.socket.remoteAddress, p.trustedProxies.size > 0 ? req.headers['x-forwarded-for'] : undefined, p.trustedProxies);
    const refusal = this.refuse(req, p, ip, 'proxy');
    if (refusal === null) return true;
    const body = JSON.stringify({ error: refusal.error });
    const extra = Object.entries(refusal.headers ?? {})
      .filter(([k]) => k !== 'connection')
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const reason = refusal.status === 429 ? 'Too Many Requests' : 'Bad Request';
    socket.end(`HTTP/1.1 ${refusal.status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`);
    return false;
  }

  private internalError(err: unknown, req: IncomingMessage, res: ServerResponse): void {
    const requestId = newRequestId();
    this.logger.error({ err, request_id: requestId, method: req.method, path: splitTarget(req.url ?? '/').path.slice(0, 200) }, 'proxied request failed');
    if (!res.headersSent) sendJson(res, 500, { error: 'internal server error', request_id: requestId });
    else res.destroy();
  }

  // ------------------------------------------------------------------ reload

  /** The reload component: compiles the new policy (throws naming the setting when invalid), then swaps. */
  reloadable(): Reloadable<ServerConfig> {
    return {
      name: 'security',
      prepare: (next) => {
        const policy = compileSecurityPolicy(next, { https: this.https });
        const keys = createKeyChecker(next);
        const agentKey = createKeyChecker({ server_key: next.server_key, api_keys: [] });
        return () => {
          this.current = policy;
          this.keys = keys;
          this.agentKey = agentKey;
          this.mgmtLimiter.reconfigure(policy.rateLimit);
          this.proxyLimiter.reconfigure(policy.rateLimit);
        };
      },
    };
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }
}

/**
 * Tier names from the tier header and `?tier=` must look like tier names (letters, digits, ".", "_", "-";
 * 1–64 characters), so nothing else travels into logs, metrics labels or error messages. An empty value means
 * "the default tier" and passes.
 */
function checkTierInputs(req: IncomingMessage, query: string, tierHeader: string): string | null {
  if (tierHeader !== '') {
    const h = req.headers[tierHeader];
    const v = Array.isArray(h) ? h[0] : h;
    if (v !== undefined && v !== '' && !TIER_NAME_RE.test(v)) return `invalid tier name in the ${tierHeader} header (tier_header): expected 1–64 letters, digits, ".", "_" or "-"`;
  }
  if (query.includes('tier=')) {
    const v = new URLSearchParams(query.slice(1)).get('tier');
    if (v !== null && v !== '' && !TIER_NAME_RE.test(v)) return 'invalid tier name in ?tier=: expected 1–64 letters, digits, ".", "_" or "-"';
  }
  return null;
}

function pathOfAbsolute(target: string): string {
  const scheme = target.indexOf('://');
  if (scheme <= 0) return target;
  const slash = target.indexOf('/', scheme + 3);
  return slash === -1 ? '/' : target.slice(slash);
}
