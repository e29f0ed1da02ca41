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
 *
 * This file is the composition and the stream loop; the parts live beside it: transport.ts (client),
 * credentials.ts, session.ts (one stream), credits.ts, held-jobs.ts, renewals.ts, outbox.ts, clock.ts, lags.ts.
 */
import { hostname as osHostname } from 'node:os';
import type { Transport } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { WorkerMessageSchema } from '../../gen/vantage/v1/worker_pb.js';
import type { Job, Ping, RegisterResponse, ServerMessage, WorkerMessage } from '../../gen/vantage/v1/worker_pb.js';
import { checkTypeNames } from '../../monitoring/checks/registry.js';
import { runCheck as defaultRunCheck } from '../../monitoring/checks/run-check.js';
import { realTimers, sleep } from '../../platform/sleep.js';
import type { Timers } from '../../platform/sleep.js';
import { backoffDelay } from '../reporter/backoff.js';
import type { BackoffOptions } from '../reporter/backoff.js';
import { ClockOffset, ntpSample } from './clock.js';
import { authHeaders } from './credentials.js';
import { Credits } from './credits.js';
import { HeldJobs } from './held-jobs.js';
import { toResultMessage } from './job.js';
import { LagWindow } from './lags.js';
import { Outbox } from './outbox.js';
import { LeaseRenewals } from './renewals.js';
import { newSession, pongMessage, registerMessage, writable } from './session.js';
import type { Session } from './session.js';
import { workerClient, type WorkerTls } from './transport.js';
import type { WorkerClient } from './transport.js';

export { resolveWorkerUrl } from './transport.js';

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
  /** client certificate, key and CA (enrolled worker): the stream uses mTLS over https instead of a token */
  tls?: WorkerTls;
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
  /** Switches to new TLS credentials (after renewal): the stream reconnects with them at once. */
  useTls(tls: WorkerTls): void;
  stats(): WorkerStats;
  /** forget the recorded start lags (benchmarks measure a steady window) */
  resetLag(): void;
}

class Worker implements MonitoringWorker {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly random: () => number;
  private client: WorkerClient;
  private headers: Record<string, string>;
  private readonly maxRunning: number;
  private readonly reconnectBackoff: BackoffOptions;
  private readonly clock = new ClockOffset(16);
  private readonly stopCtl = new AbortController();
  private readonly hostname: string;
  private readonly clientId: string;
  private readonly lags: LagWindow;
  private readonly held: HeldJobs;
  private readonly outbox: Outbox;
  private readonly credits: Credits;
  private readonly renewals: LeaseRenewals;
  private session: Session | null = null;
  private workerId = '';
  private stopping = false;
  private readonly loopDone: Promise<void>;
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
    this.lags = new LagWindow(deps.lagWindow ?? 10_000);
    this.reconnectBackoff = deps.reconnectBackoff ?? { baseMs: 250, capMs: 10_000, jitter: 0.2 };
    this.headers = deps.tls ? {} : authHeaders(config);
    this.client = workerClient(config, deps.transport, deps.tls);
    this.hostname = deps.hostname ?? config.hostname ?? osHostname();
    this.clientId = deps.clientId ?? '';
    const push = (msg: WorkerMessage): boolean => this.push(msg);
    this.held = new HeldJobs({
      log: this.log,
      now: this.now,
      timers: this.timers,
      clock: this.clock,
      maxRunning: this.maxRunning,
      runCheck: deps.runCheck ?? defaultRunCheck,
      lags: this.lags,
      counters: this.counters,
      onResult: (job, result) =>
        this.outbox.add(job.runId, create(WorkerMessageSchema, { msg: { case: 'result', value: toResultMessage(job, result, this.clock.offsetMs) } })),
      onFreed: () => this.credits.topUp(),
    });
    this.outbox = new Outbox({
      log: this.log,
      now: this.now,
      timers: this.timers,
      random: this.random,
      resendBackoff: deps.resendBackoff ?? { baseMs: 500, capMs: 30_000, jitter: 0.2 },
      ackTimeoutMs: deps.ackTimeoutMs ?? 30_000,
      counters: this.counters,
      push,
      onSettled: () => this.credits.topUp(),
    });
    this.credits = new Credits({
      capacity: this.maxRunning + (deps.prefetch ?? 32 * this.maxRunning),
      maxUnacked: deps.maxUnacked ?? 64 * this.maxRunning,
      held: () => this.held.size,
      unacked: () => this.outbox.size,
      canAsk: () => !this.stopping && this.session !== null && this.session.registered,
      push,
    });
    this.renewals = new LeaseRenewals(
      {
        now: this.now,
        timers: this.timers,
        clock: this.clock,
        heldRunIds: () => this.held.runIds(),
        push,
        live: () => this.session !== null && this.session.registered,
        onTick: () => this.outbox.sweep(),
      },
      deps.leaseRenewMs ?? 10_000,
    );
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

  useTls(tls: WorkerTls): void {
    this.headers = {};
    this.client = workerClient(this.config, undefined, tls);
    this.session?.abort.abort();
  }

  private async runSession(): Promise<boolean> {
    const s = newSession(this.now());
    const onStop = (): void => s.abort.abort();
    this.stopCtl.signal.addEventListener('abort', onStop, { once: true });
    this.session = s;
    s.out.push(
      registerMessage({
        version: WORKER_VERSION,
        region: this.config.region,
        capabilities: checkTypeNames(),
        hostname: this.hostname,
        workerId: this.workerId,
        maxConcurrent: this.maxRunning,
      }),
    );
    try {
      for await (const m of this.client.connect(s.out, { signal: s.abort.signal, headers: this.headers })) {
        this.onMessage(s, m);
      }
      // A stream half-closed by stop() is expected to end: the server closes it once it owes nothing.
      if (s.draining) this.log.debug('worker stream ended after the graceful half-close');
      else if (!this.stopCtl.signal.aborted) this.log.warn('worker stream closed by the server');
    } catch (err) {
      if (!this.stopCtl.signal.aborted) this.log.warn({ err: String(err) }, 'worker stream failed');
    } finally {
      this.stopCtl.signal.removeEventListener('abort', onStop);
      s.out.end();
      if (this.session === s) this.session = null;
      this.credits.reset();
      this.renewals.stop();
      this.outbox.detach();
    }
    return s.registered;
  }

  private push(msg: WorkerMessage): boolean {
    const s = this.session;
    if (!writable(s)) return false;
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
        this.outbox.onAck(m.msg.value);
        break;
      case 'ping':
        this.onPing(s, m.msg.value);
        break;
      case 'leaseRenewed':
        // the clock sample first, then the lost leases are stopped
        this.renewals.renewed(m.msg.value);
        this.held.lost(m.msg.value.lostRunIds);
        this.credits.topUp();
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
    this.renewals.registered(r);
    const reconnect = this.workerId !== '';
    this.workerId = r.workerId;
    s.registered = true;
    this.counters.registrations++;
    this.log.info(
      { worker_id: r.workerId, region: this.config.region, client_id: this.clientId || undefined, clock_offset_ms: this.clock.offsetMs, unacked: this.outbox.size },
      reconnect ? 'monitoring worker re-registered' : 'monitoring worker registered',
    );
    // Results that were waiting go out first, then leases of held jobs are refreshed. The renewal goes out
    // even with nothing held: the register exchange's clock sample includes the stream's connection setup
    // (TCP, TLS, HTTP/2 settings; 12–22 ms off on one host), the renewal's answer is measured on the warm
    // stream, and the smaller round trip wins (ClockOffset).
    this.outbox.sendAll(reconnect);
    this.renewals.renew({ clockProbe: true });
    this.renewals.schedule();
    this.credits.topUp();
  }

  private onPing(s: Session, ping: Ping): void {
    const received = this.now();
    s.out.push(pongMessage(ping, received, this.now()));
    if (ping.clockOffsetMs !== undefined) {
      this.clock.add({ offsetMs: ping.clockOffsetMs, rttMs: ping.rttMs ?? Number.MAX_SAFE_INTEGER });
    }
  }

  private onJob(job: Job): void {
    this.credits.used();
    this.counters.jobsReceived++;
    if (this.held.has(job.runId) || this.outbox.has(job.runId)) return; // duplicate delivery
    this.held.add(job);
  }

  // ---------------------------------------------------------------- control

  stats(): WorkerStats {
    return {
      connected: this.session?.registered ?? false,
      workerId: this.workerId,
      ...this.counters,
      outstandingCredits: this.credits.outstanding,
      waiting: this.held.waiting,
      running: this.held.running,
      unacked: this.outbox.size,
      clockOffsetMs: this.clock.offsetMs,
      clockUncertaintyMs: this.clock.uncertaintyMs,
      lagMs: this.lags.summary(),
    };
  }

  resetLag(): void {
    this.lags.reset();
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
    await waitUntil(() => this.held.size === 0 && this.outbox.size === 0);
    await this.held.abandonAll();
    if (this.outbox.size > 0) this.log.warn({ unacked: this.outbox.size }, 'monitoring worker stopped with unacknowledged results');
    this.outbox.clearTimers();
    this.stopCtl.abort();
    await this.loopDone;
  }
}

/** Start the monitoring worker; it connects, reconnects and runs checks in the background. */
export function startMonitoringWorker(config: MonitoringWorkerConfig, deps: MonitoringWorkerDeps): MonitoringWorker {
  return new Worker(config, deps);
}
