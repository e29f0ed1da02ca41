/**
 * One worker stream: the protocol state machine (register first, then job requests, results, lease renewals and
 * pongs) and the WorkerLink the job dispatcher and the stream health monitor act on.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import type { LeasedJob, MonitoringStore } from '../../store/monitoring.js';
import type { ServerMessageSchema, WorkerMessage, Register, Pong, LeaseRenewal, Result } from '../../gen/vantage/v1/worker_pb.js';
import type { JobDispatcher } from '../../monitoring/control/job-dispatcher.js';
import type { WorkerActivity } from '../../monitoring/control/inactivity.js';
import type { IngestQueue } from '../../monitoring/control/ingest.js';
import type { MonitoringMetrics } from '../../monitoring/control/metrics.js';
import type { WorkerLink, WorkerStreams } from '../../monitoring/control/worker-streams.js';
import { newHealthState, recordPing, recordPong, type StreamHealthState } from '../../monitoring/control/stream-health.js';
import { newWorkerId, randomId } from '../../platform/ids.js';
import type { Timers } from '../../platform/timers.js';
import type { AsyncQueue } from '../../platform/async-queue.js';
import { parseWireResult } from './result-schema.js';
import type { WorkerTokenPrincipal } from '../../auth/worker-token.js';
import type { WorkerCertPrincipal } from '../../auth/worker-identity.js';
import type { WorkerAuthMethod } from '../../store/pki.js';

/** int64 fields are bigint in @bufbuild/protobuf v2. */
const big = (n: number): bigint => BigInt(Math.trunc(n));

export type ServerMessageInit = MessageInitShape<typeof ServerMessageSchema>;

export interface SessionDeps {
  store: MonitoringStore;
  streams: WorkerStreams;
  dispatcher: JobDispatcher;
  ingest: IngestQueue;
  activity: WorkerActivity;
  now: () => number;
  timers: Timers;
  leaseMs: number;
  renewIntervalMs: number;
  leadMs: number;
  /** A stream that has not registered within this long is closed. */
  registerTimeoutMs: number;
  /** Most outstanding job credits per stream. */
  maxCredits?: number;
  logger?: Logger;
  metrics?: MonitoringMetrics;
  /** Records how each worker authenticated (`vantage worker list`); absent = not recorded. */
  recordAuth?: (workerId: string, via: WorkerAuthMethod) => Promise<void>;
}

const WORKER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const REGION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export class WorkerSession implements WorkerLink {
  readonly streamId = randomId('s_', 10);
  workerId = '';
  region = '';
  /** The check types the worker declared in its register message; jobs leased for it are limited to them. */
  capabilities: readonly string[] = [];
  credits = 0;
  readonly health: StreamHealthState;
  private registered = false;
  /** Leased jobs by run id, until their result arrives or the lease is lost (ingest listeners are told the job). */
  private readonly jobs = new Map<string, { monitorId: string; region: string }>();
  private closed = false;
  /** Results and renewals being processed; their answers are still owed to the worker. */
  private pending = 0;
  /** The worker half-closed: no more jobs; the stream ends once every owed answer is sent. */
  private draining = false;
  private registerTimer: unknown = null;

  constructor(
    private readonly d: SessionDeps,
    private readonly out: AsyncQueue<ServerMessageInit>,
    /** Ends the stream with an error (the Connect handler throws it to the client). */
    private readonly fail: (reason: string) => void,
    /** How the stream authenticated; a certificate fixes the worker id and region. */
    private readonly principal: WorkerTokenPrincipal | WorkerCertPrincipal = { kind: 'worker-token', via: 'open' },
  ) {
    this.health = newHealthState(d.now());
    this.registerTimer = d.timers.setTimeout(() => {
      if (!this.registered) this.close('no register message in time');
    }, d.registerTimeoutMs);
  }

  /** Serial of the client certificate the stream uses ('' for token streams): the revocation check's key. */
  get certSerial(): string {
    return this.principal.kind === 'worker-cert' ? this.principal.serial : '';
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Handles one inbound message; protocol errors close the stream. */
  async handle(msg: WorkerMessage): Promise<void> {
    if (this.closed) return;
    if (msg.msg.case !== 'register' && !this.registered) {
      this.close('the first message must be register');
      return;
    }
    if (this.registered) this.d.activity.seen(this.workerId);
    switch (msg.msg.case) {
      case 'register':
        if (this.registered) return this.close('register sent twice');
        return this.onRegister(msg.msg.value);
      case 'jobRequest': {
        if (this.draining) return;
        const max = this.d.maxCredits ?? 10_000;
        this.credits = Math.min(max, this.credits + Math.max(0, msg.msg.value.count));
        this.d.dispatcher.poke();
        return;
      }
      case 'result':
        return this.onResult(msg.msg.value);
      case 'leaseRenewal':
        return this.onRenewal(msg.msg.value);
      case 'pong':
        return this.onPong(msg.msg.value);
      default:
        return;
    }
  }

  private async onRegister(r: Register): Promise<void> {
    const region = r.region === '' ? 'global' : r.region;
    const reject = (reason: string): void => {
      this.out.push({ msg: { case: 'registerResponse', value: { accepted: false, reason, serverTimeMs: big(this.d.now()) } } });
      this.close(reason, false);
    };
    if (!REGION_RE.test(region)) return reject(`invalid region "${region.slice(0, 64)}"`);
    if (r.workerId !== '' && !WORKER_ID_RE.test(r.workerId)) return reject('invalid worker_id');
    const p = this.principal;
    if (p.kind === 'worker-cert') {
      // The certificate names the worker and its region; the message may only repeat them.
      if (r.workerId !== '' && r.workerId !== p.workerId) return reject(`worker_id "${r.workerId.slice(0, 64)}" is not the one in the client certificate (${p.workerId})`);
      if (region !== p.region) return reject(`region "${region}" is not the one in the client certificate (${p.region})`);
    }
    const id = p.kind === 'worker-cert' ? p.workerId : r.workerId || newWorkerId();
    const capabilities = r.capabilities.slice(0, 16).map((c) => c.slice(0, 32));
    const existing = await this.d.store.getWorker(id);
    if (existing?.revoked_at != null) return reject(`worker ${id} is revoked: ${existing.revoked_reason ?? ''}`.trim());
    await this.d.store.upsertWorker(
      {
        id,
        hostname: r.hostname.slice(0, 255),
        region,
        version: r.version.slice(0, 64),
        capabilities,
      },
      this.d.now(),
    );
    await this.d.recordAuth?.(id, p.kind === 'worker-cert' ? 'mtls' : p.via);
    if (this.closed) return;
    this.workerId = id;
    this.region = region;
    this.capabilities = capabilities;
    this.registered = true;
    this.d.timers.clearTimeout(this.registerTimer);
    const prev = this.d.streams.add(this);
    if (prev && prev !== this) prev.close('replaced by a newer stream of the same worker');
    this.d.metrics?.streams.set(this.d.streams.size);
    this.d.logger?.info({ workerId: id, region, version: r.version, hostname: r.hostname }, 'worker registered');
    this.out.push({
      msg: {
        case: 'registerResponse',
        value: {
          workerId: id,
          accepted: true,
          serverTimeMs: big(this.d.now()),
          leaseTimeoutMs: big(this.d.leaseMs),
          leaseRenewIntervalMs: big(this.d.renewIntervalMs),
          dispatchLeadMs: big(this.d.leadMs),
        },
      },
    });
    // Start clock-offset estimation at once.
    const now = this.d.now();
    this.sendPing(recordPing(this.health, now), now);
  }

  private onResult(r: Result): void {
    const parsed = parseWireResult(r);
    if (!parsed.ok) {
      this.d.metrics?.results.inc({ outcome: 'invalid' });
      this.d.logger?.warn({ workerId: this.workerId, runId: r.runId, error: parsed.error }, 'invalid result');
      this.ack(r.runId, r.eventAtMs, false, 'invalid');
      return;
    }
    this.pending++;
    const job = this.jobs.get(r.runId);
    this.jobs.delete(r.runId);
    this.d.ingest
      .submit(this.workerId, parsed.result, job)
      .then(
        (outcome) => this.ack(r.runId, r.eventAtMs, outcome !== 'lease_lost', outcome === 'lease_lost' ? 'lease_lost' : ''),
        () => this.ack(r.runId, r.eventAtMs, false, 'unavailable'),
      )
      .finally(() => this.settled());
  }

  private ack(runId: string, eventAtMs: bigint, committed: boolean, reason: string): void {
    this.out.push({ msg: { case: 'resultAck', value: { runId, eventAtMs, committed, reason } } });
  }

  private async onRenewal(r: LeaseRenewal): Promise<void> {
    const runIds = r.runIds.slice(0, 10_000);
    const now = this.d.now();
    this.pending++;
    try {
      const res = await this.d.store.renewLeases({ workerId: this.workerId, runIds, now, leaseMs: this.d.leaseMs });
      for (const id of res.lost) this.jobs.delete(id);
      this.out.push({
        msg: { case: 'leaseRenewed', value: { runIds: res.renewed, lostRunIds: res.lost, leaseExpiresAtMs: big(now + this.d.leaseMs) } },
      });
    } finally {
      this.settled();
    }
  }

  private settled(): void {
    this.pending--;
    if (this.draining && this.pending === 0) this.close('worker ended the stream', false);
  }

  /**
   * The worker half-closed its side: it gets no more jobs (its credits are dropped, its leases stay with it),
   * and the stream ends as soon as the acks and renewals it is owed are sent.
   */
  endOfInput(): void {
    if (this.closed) return;
    if (this.pending === 0) return this.close('worker ended the stream', false);
    this.draining = true;
    this.credits = 0;
    this.d.streams.remove(this);
    this.d.metrics?.streams.set(this.d.streams.size);
  }

  private onPong(p: Pong): void {
    const hadClock = this.health.clock !== null;
    const now = this.d.now();
    const ok = recordPong(
      this.health,
      { seq: Number(p.seq), pingSentAt: Number(p.pingSentAtMs), receivedAt: Number(p.receivedAtMs), sentAt: Number(p.sentAtMs) },
      now,
    );
    // After the first exchange, ping again right away: that ping carries the offset estimate to the worker.
    if (ok && !hadClock) this.sendPing(recordPing(this.health, now), now);
  }

  // ---- WorkerLink -----------------------------------------------------------------------------------------

  deliverJobs(jobs: LeasedJob[]): boolean {
    if (this.closed) return false;
    for (const j of jobs) {
      this.jobs.set(j.run_id, { monitorId: j.monitor_id, region: j.region });
      this.out.push({
        msg: {
          case: 'job',
          value: {
            runId: j.run_id,
            monitorId: j.monitor_id,
            region: j.region,
            scheduledAtMs: big(j.scheduled_at),
            leaseExpiresAtMs: big(j.lease_expires_at),
            attempt: j.attempt,
            type: j.monitor.type,
            url: j.monitor.url,
            method: j.monitor.method,
            headers: j.monitor.headers,
            body: j.monitor.body,
            timeoutMs: big(j.monitor.timeout_ms),
            optionsJson: JSON.stringify(j.monitor.options),
            assertionsJson: JSON.stringify(j.monitor.assertions_compiled),
            monitorName: j.monitor.name,
          },
        },
      });
    }
    return true;
  }

  sendPing(seq: number, sentAt: number): void {
    const clock = this.health.clock;
    this.out.push({
      msg: { case: 'ping', value: { sentAtMs: big(sentAt), seq: big(seq), clockOffsetMs: clock?.offsetMs, rttMs: clock?.rttMs } },
    });
  }

  /** Closes the stream (with an error for the client unless `graceful`); idempotent. */
  close(reason: string, withError = true): void {
    if (this.closed) return;
    this.closed = true;
    this.d.timers.clearTimeout(this.registerTimer);
    this.d.streams.remove(this);
    this.d.metrics?.streams.set(this.d.streams.size);
    this.credits = 0;
    if (this.registered) this.d.logger?.info({ workerId: this.workerId, reason }, 'worker stream closed');
    if (withError) this.fail(reason);
    else this.out.end();
  }
}
