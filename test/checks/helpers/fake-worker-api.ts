/**
 * A scriptable WorkerService for testing the agent's worker loop: a real
 * Connect server over HTTP/2 (h2c) on a loopback port, speaking the generated
 * protocol. It keeps credits per stream like the real dispatcher (jobs are
 * pushed only against JobRequest credits) and records everything it receives.
 */
import { createServer } from 'node:http2';
import type { Http2Server, Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { JobSchema, ServerMessageSchema, WorkerService } from '../../../src/gen/vantage/v1/worker_pb.js';
import type { Job, Pong, Register, Result, ServerMessage, WorkerMessage } from '../../../src/gen/vantage/v1/worker_pb.js';
import { AsyncQueue } from '../../../src/platform/async-queue.js';

export type AckDecision = { committed: true } | { committed: false; reason: string } | 'no-ack' | 'drop-stream';

export interface FakeOptions {
  port?: number;
  leaseRenewMs?: number;
  /** decide the ack for each received result (default: commit) */
  onResult?: (r: Result, nth: number) => AckDecision;
  accept?: (r: Register) => boolean;
  token?: string;
  /** leave server_time_ms out of the register response (no clock sample from it) */
  noServerTime?: boolean;
  /**
   * stamp server_time_ms and answer the register this long after it arrived, as when the first message waits
   * for the connection to be set up (its clock sample is then off by about half of this)
   */
  registerDelayMs?: number;
}

export interface FakeStream {
  workerId: string;
  credits: number;
  out: AsyncQueue<ServerMessage>;
  register: Register | null;
}

export class FakeWorkerApi {
  port = 0;
  readonly registrations: Register[] = [];
  readonly results: Result[] = [];
  /** committed results by run id (ingest is idempotent on (run_id, event_at)) */
  readonly committed = new Map<string, Result>();
  readonly commitCount = new Map<string, number>();
  readonly renewals: string[][] = [];
  readonly pongs: Array<{ pong: Pong; t3: number }> = [];
  readonly jobRequests: number[] = [];
  readonly streams = new Set<FakeStream>();
  readonly badAuth: string[] = [];
  jobsDelivered = 0;
  creditsGranted = 0;
  private readonly pending: Job[] = [];
  private server: Http2Server | null = null;
  private readonly sessions = new Set<Http2Session>();
  private nextWorker = 1;
  private registerDelayed = false;

  constructor(private readonly opts: FakeOptions = {}) {}

  async start(): Promise<this> {
    const handler = connectNodeAdapter({
      routes: (router) =>
        router.service(WorkerService, {
          connect: (reqs, ctx) => this.handle(reqs, ctx.requestHeader, ctx.signal),
        }),
    });
    const server = createServer(handler);
    server.on('session', (s) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.opts.port ?? 0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stop abruptly: every session is destroyed, as when the process dies. */
  async kill(): Promise<void> {
    for (const st of this.streams) st.out.end();
    for (const s of this.sessions) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async *handle(reqs: AsyncIterable<WorkerMessage>, headers: Headers, signal: AbortSignal): AsyncGenerator<ServerMessage> {
    if (this.opts.token !== undefined && headers.get('authorization') !== `Bearer ${this.opts.token}`) {
      this.badAuth.push(headers.get('authorization') ?? '');
      yield create(ServerMessageSchema, { msg: { case: 'registerResponse', value: { accepted: false, reason: 'bad token' } } });
      return;
    }
    const st: FakeStream = { workerId: '', credits: 0, out: new AsyncQueue<ServerMessage>(), register: null };
    this.streams.add(st);
    signal.addEventListener('abort', () => st.out.end(), { once: true });
    void (async () => {
      try {
        for await (const m of reqs) this.onMessage(st, m);
      } catch {
        // stream torn down
      } finally {
        st.out.end();
      }
    })();
    try {
      yield* st.out;
    } finally {
      this.streams.delete(st);
      st.out.end();
    }
  }

  private send(st: FakeStream, msg: MessageInitShape<typeof ServerMessageSchema>['msg']): void {
    st.out.push(create(ServerMessageSchema, { msg } as MessageInitShape<typeof ServerMessageSchema>));
  }

  private onMessage(st: FakeStream, m: WorkerMessage): void {
    switch (m.msg.case) {
      case 'register': {
        const r = m.msg.value;
        this.registrations.push(r);
        st.register = r;
        if (this.opts.accept && !this.opts.accept(r)) {
          this.send(st, { case: 'registerResponse', value: { accepted: false, reason: 'refused by test' } });
          st.out.end();
          return;
        }
        st.workerId = r.workerId !== '' ? r.workerId : `w-${this.nextWorker++}`;
        if (this.opts.registerDelayMs !== undefined && !this.registerDelayed) {
          // Only the first registration waits (the first connection); the answer is then sent as usual.
          this.registerDelayed = true;
          this.registrations.pop();
          setTimeout(() => this.onMessage(st, m), this.opts.registerDelayMs);
          return;
        }
        this.send(st, {
          case: 'registerResponse',
          value: {
            workerId: st.workerId,
            accepted: true,
            serverTimeMs: this.opts.noServerTime ? 0n : BigInt(Date.now()),
            leaseTimeoutMs: 45_000n,
            leaseRenewIntervalMs: BigInt(this.opts.leaseRenewMs ?? 10_000),
            dispatchLeadMs: 2000n,
          },
        });
        return;
      }
      case 'jobRequest':
        st.credits += m.msg.value.count;
        this.creditsGranted += m.msg.value.count;
        this.jobRequests.push(m.msg.value.count);
        this.dispatch();
        return;
      case 'result': {
        const r = m.msg.value;
        this.results.push(r);
        const nth = this.results.filter((x) => x.runId === r.runId).length;
        const d = this.opts.onResult ? this.opts.onResult(r, nth) : { committed: true as const };
        if (d === 'drop-stream') {
          st.out.end();
          return;
        }
        if (d === 'no-ack') return;
        if (d.committed) {
          const prev = this.committed.get(r.runId);
          if (prev === undefined || prev.eventAtMs !== r.eventAtMs) {
            this.commitCount.set(r.runId, (this.commitCount.get(r.runId) ?? 0) + 1);
          }
          this.committed.set(r.runId, r);
        }
        this.send(st, { case: 'resultAck', value: { runId: r.runId, eventAtMs: r.eventAtMs, committed: d.committed, reason: d.committed ? '' : d.reason } });
        return;
      }
      case 'leaseRenewal':
        this.renewals.push([...m.msg.value.runIds]);
        this.send(st, { case: 'leaseRenewed', value: { runIds: [...m.msg.value.runIds], lostRunIds: [], leaseExpiresAtMs: BigInt(Date.now() + 45_000) } });
        return;
      case 'pong':
        this.pongs.push({ pong: m.msg.value, t3: Date.now() });
        return;
      default:
    }
  }

  /** Queue a job; it is pushed to a stream that has credits (now or when credits arrive). */
  addJob(init: Partial<MessageInitShape<typeof JobSchema>> & { runId: string }): void {
    this.pending.push(
      create(JobSchema, {
        monitorId: 'm-1',
        region: 'global',
        scheduledAtMs: BigInt(Date.now()),
        leaseExpiresAtMs: BigInt(Date.now() + 45_000),
        attempt: 1,
        type: 'http',
        method: 'GET',
        timeoutMs: 5000n,
        optionsJson: '{}',
        assertionsJson: '[]',
        ...init,
      } as MessageInitShape<typeof JobSchema>),
    );
    this.dispatch();
  }

  private dispatch(): void {
    for (const st of this.streams) {
      while (st.credits > 0 && this.pending.length > 0 && st.workerId !== '') {
        const job = this.pending.shift() as Job;
        st.credits--;
        this.jobsDelivered++;
        this.send(st, { case: 'job', value: job });
      }
    }
  }

  ping(init: { seq: number; clockOffsetMs?: number; rttMs?: number }): void {
    for (const st of this.streams) {
      this.send(st, { case: 'ping', value: { sentAtMs: BigInt(Date.now()), seq: BigInt(init.seq), clockOffsetMs: init.clockOffsetMs, rttMs: init.rttMs } });
    }
  }

  leaseLost(runIds: string[]): void {
    for (const st of this.streams) this.send(st, { case: 'leaseRenewed', value: { runIds: [], lostRunIds: runIds } });
  }

  endStreams(): void {
    for (const st of this.streams) st.out.end();
  }
}

/** Poll `cond` until it holds or the deadline passes (then throw with `what`). */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
