/**
 * The monitoring worker loop of the agent.
 *
 * One bidirectional Connect stream to the worker API (proto/vantage/v1/worker.proto):
 *  - register (keeping the worker id across reconnects), then ask for jobs with
 *    JobRequest credits while slots are free (running + waiting + outstanding credits
 *    ≤ max_concurrent_checks + prefetch);
 *  - start each job at its scheduled_at (server clock) translated to the local clock with
 *    the NTP-style offset estimate, plus the estimate's error bound, so never early; at most
 *    max_concurrent_checks run at once;
 *  - renew the leases of held jobs every lease_renew_interval_ms; stop jobs whose lease is lost;
 *  - keep every result until its ack: committed=false with a retryable reason → resend with
 *    backoff; lease_lost/invalid → drop; no ack within ackTimeoutMs → resend; stream drop →
 *    reconnect with backoff and resend all unacked results (ingest is idempotent on
 *    (run_id, event_at), and a resend carries exactly the same values);
 *  - answer pings at once with the receive/send times (the server's offset estimate comes back
 *    in later pings).
 * Resource reporting never waits on any of this: startMonitoringWorker returns at once and the
 * loop runs in the background.
 */
import { hostname as osHostname } from 'node:os';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import type { Client, Transport } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import type { Logger } from 'pino';
import { WorkerMessageSchema, WorkerService } from '../../gen/vantage/v1/worker_pb.js';
import type { Job, LeaseRenewed, Ping, RegisterResponse, ResultAck, ServerMessage, WorkerMessage } from '../../gen/vantage/v1/worker_pb.js';
import { backoffDelay } from '../reporter/backoff.js';
import type { BackoffOptions } from '../reporter/backoff.js';
import { realTimers, sleep } from '../../platform/sleep.js';
import type { Timers } from '../../platform/sleep.js';
import { ClockOffset, ntpSample } from './clock.js';
import { i64, invalidJobResult, JobCache, toResultMessage } from './job.js';
import type { PreparedJob } from './job.js';
import { AsyncQueue } from '../../platform/async-queue.js';
import { checkTypeNames } from '../../monitoring/checks/registry.js';
import { runCheck as defaultRunCheck } from '../../monitoring/checks/run-check.js';

export const WORKER_VERSION = '0.1.0';

/** The client.yml keys the worker reads (ClientConfig is assignable to it). */
export interface MonitoringWorkerConfig {
  server_url: string;
  server_key: string;
  worker_url: string;
  region: string;
  max_concurrent_checks: number;
  monitoring_enabled: boolean;
  cluster_token: string;
  insecure_tls: boolean;
  hostname?: string;
}

export interface MonitoringWorkerDeps {
  logger: Logger;
  /** worker wall clock, epoch ms (default Date.now) */
  now?: () => number;
  timers?: Timers;
  clientId?: string;
  hostname?: string;
  random?: () => number;
  /** jobs leased ahead of their start that may wait locally (default 32 × max_concurrent_checks) */
  prefetch?: number;
  /** stop asking for jobs while this many results wait for their ack (default 64 × max_concurrent_checks) */
  maxUnacked?: number;
  /** backoff between reconnects (default 250 ms doubling to 10 s) */
  reconnectBackoff?: BackoffOptions;
  /** backoff between resends of a result acked committed=false (default 500 ms doubling to 30 s) */
  resendBackoff?: BackoffOptions;
  /** resend a result that got no ack within this long on a live stream (default 30 s) */
  ackTimeoutMs?: number;
  /** lease renewal period until the server says otherwise (default 10 s) */
  leaseRenewMs?: number;
  /** the check runner (tests may wrap it); default runCheck */
  runCheck?: typeof defaultRunCheck;
  /** a ready transport (tests); default gRPC over HTTP/2 to worker_url */
  transport?: Transport;
  /** how many recent start lags stats() summarizes (default 10 000) */
  lagWindow?: number;
}

export interface WorkerStats {
  connected: boolean;
  workerId: string;
  registrations: number;
  reconnects: number;
  outstandingCredits: number;
  waiting: number;
  running: number;
  unacked: number;
  jobsReceived: number;
  checksStarted: number;
  checksCompleted: number;
  resultsSent: number;
  resultsResent: number;
  resultsAcked: number;
  resultsDropped: number;
  leasesLost: number;
  clockOffsetMs: number;
  clockUncertaintyMs: number;
  /** check start − scheduled_at (server clock), over the last `lagWindow` starts since resetLag() */
  lagMs: { count: number; p50: number; p99: number; max: number };
}

export interface MonitoringWorker {
  stop(opts?: { graceMs?: number }): Promise<void>;
  stats(): WorkerStats;
  /** forget the recorded start lags (benchmarks measure a steady window) */
  resetLag(): void;
}

/** `worker_url`, or `server_url`'s scheme and host on port 8081. */
export function resolveWorkerUrl(cfg: Pick<MonitoringWorkerConfig, 'worker_url' | 'server_url'>): string {
  if (cfg.worker_url !== '') return cfg.worker_url.replace(/\/+$/, '');
  const u = new URL(cfg.server_url);
  u.port = '8081';
  return `${u.protocol}//${u.host}`;
}

interface Held {
  job: Job;
  prepared: PreparedJob;
  scheduledAt: number;
  state: 'waiting' | 'ready' | 'running';
  timer: unknown;
  abort: AbortController | null;
  lost: boolean;
}

interface Pending {
  runId: string;
  msg: WorkerMessage;
  attempts: number;
  /** worker clock when last written to a live stream; null while waiting to be (re)sent */
  sentAt: number | null;
  timer: unknown;
}

interface Session {
  out: AsyncQueue<WorkerMessage>;
  abort: AbortController;
  registered: boolean;
  /** half-closed by stop(): nothing more is written to it */
  draining: boolean;
  registerSentAt: number;
}

class Worker implements MonitoringWorker {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly client: Client<typeof WorkerService>;
  private readonly headers: Record<string, string>;
  private readonly maxRunning: number;
  private readonly prefetch: number;
  private readonly maxUnacked: number;
  private readonly ackTimeoutMs: number;
  private readonly runCheck: typeof defaultRunCheck;
  private readonly reconnectBackoff: BackoffOptions;
  private readonly resendBackoff: BackoffOptions;
  private readonly cache = new JobCache();
  private readonly clock = new ClockOffset(16);
  private readonly stopCtl = new AbortController();
  private readonly hostname: string;
  private readonly clientId: string;

  private readonly jobs = new Map<string, Held>();
  private readonly ready: Held[] = [];
  private readonly unacked = new Map<string, Pending>();
  private readonly inflight = new Set<Promise<void>>();
  private running = 0;
  private outstanding = 0;
  private session: Session | null = null;
  private workerId = '';
  private leaseRenewMs: number;
  /** lease length from the register response; LeaseRenewed.lease_expires_at − this = server time of the renewal */
  private leaseTimeoutMs = 0;
  /** worker clock when the last LeaseRenewal was sent (one in flight at a time is enough for a clock sample) */
  private renewalSentAt: number | null = null;
  private renewTimer: unknown = null;
  private topUpQueued = false;
  private stopping = false;
  private readonly loopDone: Promise<void>;
  private readonly lags: Float64Array;
  private lagCount = 0;
  private readonly counters = {
    registrations: 0,
    reconnects: 0,
    jobsReceived: 0,
    checksStarted: 0,
    checksCompleted: 0,
    resultsSent: 0,
    resultsResent: 0,
    resultsAcked: 0,
    resultsDropped: 0,
    leasesLost: 0,
  };

  constructor(
    private readonly config: MonitoringWorkerConfig,
    deps: MonitoringWorkerDeps,
  ) {
    this.log = deps.logger;
    this.now = deps.now ?? Date.now;
    this.timers = deps.timers ?? realTimers;
    this.random = deps.random ?? Math.random;
    this.maxRunning = Math.max(1, config.max_concurrent_checks);
    this.prefetch = deps.prefetch ?? 32 * this.maxRunning;
    this.maxUnacked = deps.maxUnacked ?? 64 * this.maxRunning;
    this.ackTimeoutMs = deps.ackTimeoutMs ?? 30_000;
    this.leaseRenewMs = deps.leaseRenewMs ?? 10_000;
    this.runCheck = deps.runCheck ?? defaultRunCheck;
    this.lags = new Float64Array(Math.max(1, deps.lagWindow ?? 10_000));
    this.reconnectBackoff = deps.reconnectBackoff ?? { baseMs: 250, capMs: 10_000, jitter: 0.2 };
    this.resendBackoff = deps.resendBackoff ?? { baseMs: 500, capMs: 30_000, jitter: 0.2 };
    const token = config.cluster_token !== '' ? config.cluster_token : config.server_key;
    this.headers = token === '' ? {} : { authorization: `Bearer ${token}` };
    const transport =
      deps.transport ??
      createGrpcTransport({
        baseUrl: resolveWorkerUrl(config),
        nodeOptions: { rejectUnauthorized: !config.insecure_tls },
        pingIntervalMs: 15_000,
        pingTimeoutMs: 10_000,
      });
    this.client = createClient(WorkerService, transport);
    this.hostname = deps.hostname ?? config.hostname ?? osHostname();
    this.clientId = deps.clientId ?? '';
    this.loopDone = this.loop();
  }

  // ---------------------------------------------------------------- stream

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopCtl.signal.aborted) {
      const registered = await this.runSession();
      if (this.stopCtl.signal.aborted) break;
      failures = registered ? 0 : failures + 1;
      this.counters.reconnects++;
      // a stream we half-closed to stop gracefully is replaced at once, to deliver the last results
      const delay = this.stopping && registered ? 0 : backoffDelay(Math.max(0, failures - 1), this.reconnectBackoff, this.random);
      this.log.debug({ delay_ms: delay }, 'monitoring worker reconnecting');
      await sleep(delay, this.stopCtl.signal, this.timers);
    }
  }

  private async runSession(): Promise<boolean> {
    const s: Session = { out: new AsyncQueue<WorkerMessage>(), abort: new AbortController(), registered: false, draining: false, registerSentAt: 0 };
    const onStop = (): void => s.abort.abort();
    this.stopCtl.signal.addEventListener('abort', onStop, { once: true });
    this.session = s;
    s.registerSentAt = this.now();
    s.out.push(
      create(WorkerMessageSchema, {
        msg: {
          case: 'register',
          value: {
            version: WORKER_VERSION,
            region: this.config.region,
            capabilities: checkTypeNames(),
            hostname: this.hostname,
            workerId: this.workerId,
            maxConcurrent: this.maxRunning,
          },
        },
      }),
    );
    try {
      for await (const m of this.client.connect(s.out, { signal: s.abort.signal, headers: this.headers })) {
        this.onMessage(s, m);
      }
      if (!this.stopCtl.signal.aborted) this.log.warn('worker stream closed by the server');
    } catch (err) {
      if (!this.stopCtl.signal.aborted) this.log.warn({ err: String(err) }, 'worker stream failed');
    } finally {
      this.stopCtl.signal.removeEventListener('abort', onStop);
      s.out.end();
      if (this.session === s) this.session = null;
      this.outstanding = 0;
      this.timers.clearTimeout(this.renewTimer);
      this.renewTimer = null;
      for (const p of this.unacked.values()) {
        this.timers.clearTimeout(p.timer);
        p.timer = null;
        p.sentAt = null;
      }
    }
    return s.registered;
  }

  private push(msg: WorkerMessage): boolean {
    const s = this.session;
    if (s === null || !s.registered || s.draining) return false;
    return s.out.push(msg);
  }

  private onMessage(s: Session, m: ServerMessage): void {
    switch (m.msg.case) {
      case 'registerResponse':
        this.onRegistered(s, m.msg.value);
        break;
      case 'job':
        this.onJob(m.msg.value);
        break;
      case 'resultAck':
        this.onAck(m.msg.value);
        break;
      case 'ping':
        this.onPing(s, m.msg.value);
        break;
      case 'leaseRenewed':
        this.onLeaseRenewed(m.msg.value);
        break;
      default:
        break;
    }
  }

  private onRegistered(s: Session, r: RegisterResponse): void {
    if (!r.accepted) {
      this.log.error({ reason: r.reason }, 'worker API refused the registration');
      s.abort.abort();
      return;
    }
    const t3 = this.now();
    const serverTime = Number(r.serverTimeMs);
    if (serverTime > 0) this.clock.add(ntpSample(s.registerSentAt, serverTime, serverTime, t3));
    if (Number(r.leaseRenewIntervalMs) > 0) this.leaseRenewMs = Number(r.leaseRenewIntervalMs);
    this.leaseTimeoutMs = Number(r.leaseTimeoutMs);
    this.renewalSentAt = null;
    const reconnect = this.workerId !== '';
    this.workerId = r.workerId;
    s.registered = true;
    this.counters.registrations++;
    this.log.info(
      { worker_id: r.workerId, region: this.config.region, client_id: this.clientId || undefined, clock_offset_ms: this.clock.offsetMs, unacked: this.unacked.size },
      reconnect ? 'monitoring worker re-registered' : 'monitoring worker registered',
    );
    // Results that were waiting go out first, then leases of held jobs are refreshed.
    for (const p of this.unacked.values()) {
      this.timers.clearTimeout(p.timer);
      p.timer = null;
      if (p.attempts > 0 || p.sentAt !== null || reconnect) this.counters.resultsResent++;
      this.send(p);
    }
    if (this.jobs.size > 0) this.renewLeases();
    this.scheduleRenew();
    this.topUp();
  }

  private scheduleRenew(): void {
    this.timers.clearTimeout(this.renewTimer);
    this.renewTimer = this.timers.setTimeout(() => {
      this.renewTimer = null;
      if (this.session === null || !this.session.registered) return;
      this.renewLeases();
      this.sweepAcks();
      this.scheduleRenew();
    }, this.leaseRenewMs);
  }

  private renewLeases(): void {
    if (this.jobs.size === 0) return;
    this.renewalSentAt ??= this.now();
    this.push(create(WorkerMessageSchema, { msg: { case: 'leaseRenewal', value: { runIds: [...this.jobs.keys()] } } }));
  }

  /** Resend results whose ack is overdue on a live stream. */
  private sweepAcks(): void {
    const t = this.now();
    for (const p of this.unacked.values()) {
      if (p.sentAt !== null && t - p.sentAt >= this.ackTimeoutMs) {
        this.counters.resultsResent++;
        this.send(p);
      }
    }
  }

  private onPing(s: Session, ping: Ping): void {
    const received = this.now();
    s.out.push(
      create(WorkerMessageSchema, {
        msg: { case: 'pong', value: { pingSentAtMs: ping.sentAtMs, seq: ping.seq, receivedAtMs: i64(received), sentAtMs: i64(this.now()) } },
      }),
    );
    if (ping.clockOffsetMs !== undefined) {
      this.clock.add({ offsetMs: ping.clockOffsetMs, rttMs: ping.rttMs ?? Number.MAX_SAFE_INTEGER });
    }
  }

  // ---------------------------------------------------------------- jobs

  private onJob(job: Job): void {
    if (this.outstanding > 0) this.outstanding--;
    this.counters.jobsReceived++;
    if (this.jobs.has(job.runId) || this.unacked.has(job.runId)) return; // duplicate delivery
    const held: Held = {
      job,
      prepared: this.cache.prepare(job),
      scheduledAt: Number(job.scheduledAtMs),
      state: 'waiting',
      timer: null,
      abort: null,
      lost: false,
    };
    this.jobs.set(job.runId, held);
    this.arm(held);
  }

  /** Start the job once the server clock has certainly reached scheduled_at; re-check after each timer. */
  private arm(held: Held): void {
    held.timer = null;
    if (held.lost || held.state !== 'waiting') return;
    const delay = this.clock.notBefore(held.scheduledAt) - this.now();
    if (delay > 0) {
      held.timer = this.timers.setTimeout(() => this.arm(held), Math.max(1, Math.ceil(delay)));
      return;
    }
    if (this.running >= this.maxRunning) {
      held.state = 'ready';
      this.ready.push(held);
      return;
    }
    this.start(held);
  }

  private start(held: Held): void {
    held.state = 'running';
    held.abort = new AbortController();
    this.running++;
    this.counters.checksStarted++;
    const startedServer = this.clock.toServer(this.now());
    this.lags[this.lagCount % this.lags.length] = startedServer - held.scheduledAt;
    this.lagCount++;
    const p = held.prepared.ok
      ? this.runCheck(held.prepared.spec, held.prepared.assertions, { now: this.now, signal: held.abort.signal })
      : Promise.resolve(invalidJobResult(held.prepared.error, this.now()));
    const done = p
      .then(
        (result) => this.finished(held, result),
        (err: unknown) => {
          this.log.error({ err, run_id: held.job.runId }, 'check runner failed');
          this.finished(held, invalidJobResult(`check runner failed: ${String(err)}`, this.now()));
        },
      )
      .finally(() => this.inflight.delete(done));
    this.inflight.add(done);
  }

  private finished(held: Held, result: Parameters<typeof toResultMessage>[1]): void {
    this.running--;
    this.jobs.delete(held.job.runId);
    this.counters.checksCompleted++;
    if (held.lost) {
      this.counters.resultsDropped++;
    } else {
      const p: Pending = {
        runId: held.job.runId,
        msg: create(WorkerMessageSchema, { msg: { case: 'result', value: toResultMessage(held.job, result, this.clock.offsetMs) } }),
        attempts: 0,
        sentAt: null,
        timer: null,
      };
      this.unacked.set(p.runId, p);
      this.send(p);
    }
    const next = this.ready.shift();
    if (next !== undefined) this.start(next);
    this.topUp();
  }

  private onLeaseRenewed(r: LeaseRenewed): void {
    // The server stamps lease_expires_at = its now + lease length: one more NTP-style clock sample.
    if (this.renewalSentAt !== null && this.leaseTimeoutMs > 0 && Number(r.leaseExpiresAtMs) > 0) {
      const serverNow = Number(r.leaseExpiresAtMs) - this.leaseTimeoutMs;
      this.clock.add(ntpSample(this.renewalSentAt, serverNow, serverNow, this.now()));
    }
    this.renewalSentAt = null;
    for (const id of r.lostRunIds) {
      const held = this.jobs.get(id);
      if (held === undefined) continue;
      held.lost = true;
      this.counters.leasesLost++;
      this.log.warn({ run_id: id }, 'lease lost; stopping the check');
      if (held.state === 'running') {
        held.abort?.abort();
      } else {
        this.timers.clearTimeout(held.timer);
        if (held.state === 'ready') this.ready.splice(this.ready.indexOf(held), 1);
        this.jobs.delete(id);
      }
    }
    this.topUp();
  }

  /** Ask for as many jobs as there are free slots (coalesced to one JobRequest per tick). */
  private topUp(): void {
    if (this.topUpQueued) return;
    this.topUpQueued = true;
    queueMicrotask(() => {
      this.topUpQueued = false;
      if (this.stopping || this.session === null || !this.session.registered) return;
      if (this.unacked.size >= this.maxUnacked) return;
      const want = this.maxRunning + this.prefetch - this.jobs.size - this.outstanding;
      if (want <= 0) return;
      if (this.push(create(WorkerMessageSchema, { msg: { case: 'jobRequest', value: { count: want } } }))) this.outstanding += want;
    });
  }

  // ---------------------------------------------------------------- results

  private send(p: Pending): void {
    if (this.push(p.msg)) {
      p.sentAt = this.now();
      this.counters.resultsSent++;
    } else {
      p.sentAt = null; // goes out when the stream is back
    }
  }

  private onAck(ack: ResultAck): void {
    const p = this.unacked.get(ack.runId);
    if (p === undefined) return;
    if (ack.committed) {
      this.timers.clearTimeout(p.timer);
      this.unacked.delete(ack.runId);
      this.counters.resultsAcked++;
      this.topUp();
      return;
    }
    if (ack.reason === 'lease_lost' || ack.reason === 'invalid') {
      this.timers.clearTimeout(p.timer);
      this.unacked.delete(ack.runId);
      this.counters.resultsDropped++;
      this.log.warn({ run_id: ack.runId, reason: ack.reason }, 'result not stored by the server; dropped');
      this.topUp();
      return;
    }
    const delay = backoffDelay(p.attempts, this.resendBackoff, this.random);
    p.attempts++;
    p.sentAt = null;
    this.timers.clearTimeout(p.timer);
    p.timer = this.timers.setTimeout(() => {
      p.timer = null;
      if (!this.unacked.has(p.runId)) return;
      this.counters.resultsResent++;
      this.send(p);
    }, delay);
  }

  // ---------------------------------------------------------------- control

  stats(): WorkerStats {
    const n = Math.min(this.lagCount, this.lags.length);
    const lags = Array.from(this.lags.subarray(0, n)).sort((a, b) => a - b);
    const q = (f: number): number => (n === 0 ? 0 : (lags[Math.min(n - 1, Math.floor(f * n))] ?? 0));
    let waiting = 0;
    for (const h of this.jobs.values()) if (h.state !== 'running') waiting++;
    return {
      connected: this.session?.registered ?? false,
      workerId: this.workerId,
      ...this.counters,
      outstandingCredits: this.outstanding,
      waiting,
      running: this.running,
      unacked: this.unacked.size,
      clockOffsetMs: this.clock.offsetMs,
      clockUncertaintyMs: this.clock.uncertaintyMs,
      lagMs: { count: this.lagCount, p50: q(0.5), p99: q(0.99), max: n === 0 ? 0 : (lags[n - 1] ?? 0) },
    };
  }

  resetLag(): void {
    this.lagCount = 0;
  }

  /**
   * Graceful stop, within `graceMs` (default 10 s):
   *  1. the current stream is half-closed, so the server closes it and pushes no more jobs
   *     (its outstanding credits die with the stream); the loop reconnects without asking
   *     for jobs, to renew leases and deliver results;
   *  2. the jobs already held (at most dispatch_lead_ms ahead) run at their time, so none
   *     is left leased to a stopped agent until its lease expires;
   *  3. results are delivered and acknowledged.
   * At the deadline, checks still waiting or running are abandoned (no result is sent; their
   * leases expire and another worker runs them) and unacked results are given up.
   */
  async stop(opts: { graceMs?: number } = {}): Promise<void> {
    if (this.stopping) return this.loopDone;
    this.stopping = true;
    const deadline = this.now() + (opts.graceMs ?? 10_000);
    const s = this.session;
    if (s !== null) {
      // Half-close: the server ends the stream; results wait for the next (job-less) stream.
      s.draining = true;
      s.out.end();
      this.timers.setTimeout(() => s.abort.abort(), 1000);
    }
    const waitUntil = async (cond: () => boolean): Promise<void> => {
      while (!cond() && this.now() < deadline) await sleep(Math.min(20, deadline - this.now()), this.stopCtl.signal, this.timers);
    };
    await waitUntil(() => this.jobs.size === 0 && this.unacked.size === 0);
    for (const held of this.jobs.values()) {
      held.lost = true;
      this.timers.clearTimeout(held.timer);
      held.abort?.abort();
      if (held.state !== 'running') this.jobs.delete(held.job.runId);
    }
    this.ready.length = 0;
    await Promise.allSettled([...this.inflight]);
    if (this.unacked.size > 0) this.log.warn({ unacked: this.unacked.size }, 'monitoring worker stopped with unacknowledged results');
    for (const p of this.unacked.values()) this.timers.clearTimeout(p.timer);
    this.stopCtl.abort();
    await this.loopDone;
  }
}

/** Start the monitoring worker; it connects, reconnects and runs checks in the background. */
export function startMonitoringWorker(config: MonitoringWorkerConfig, deps: MonitoringWorkerDeps): MonitoringWorker {
  return new Worker(config, deps);
}
