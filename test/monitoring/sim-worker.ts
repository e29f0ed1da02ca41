/**
 * A simulated worker over the real worker API (Connect/gRPC over HTTP/2), for tests and the benchmark.
 * It registers, answers pings (unless told not to), and lets the caller request jobs and send results.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import {
  WorkerService,
  WorkerMessageSchema,
  type Job,
  type LeaseRenewed,
  type Ping,
  type RegisterResponse,
  type ResultAck,
  type ResultSchema,
  type ServerMessage,
} from '../../src/gen/vantage/v1/worker_pb.js';
import { AsyncQueue } from '../../src/platform/async-queue.js';

type WorkerMessageInit = MessageInitShape<typeof WorkerMessageSchema>;
export type ResultInit = Omit<MessageInitShape<typeof ResultSchema>, '$typeName' | '$unknown'>;

export interface SimWorkerOptions {
  baseUrl: string;
  token?: string;
  region?: string;
  workerId?: string;
  hostname?: string;
  /** Answer pings (default true). */
  answerPings?: boolean;
  /** Called for every job as it arrives. */
  onJob?: (job: Job, w: SimWorker) => void;
  onPing?: (ping: Ping, w: SimWorker) => void;
  onAck?: (ack: ResultAck, w: SimWorker) => void;
  /** Share one HTTP/2 connection manager between many simulated workers (bench). */
  session?: Http2SessionManager;
}

export class SimWorker {
  readonly out = new AsyncQueue<WorkerMessageInit>();
  readonly received: ServerMessage[] = [];
  readonly jobs: Job[] = [];
  readonly acks: ResultAck[] = [];
  readonly renewals: LeaseRenewed[] = [];
  readonly pings: Ping[] = [];
  registration: RegisterResponse | null = null;
  answerPings: boolean;
  ended = false;
  endError: unknown = null;
  private readonly done: Promise<void>;
  private readonly sessionManager: Http2SessionManager;
  private readonly ownSession: boolean;

  constructor(readonly o: SimWorkerOptions) {
    this.answerPings = o.answerPings ?? true;
    this.ownSession = !o.session;
    this.sessionManager = o.session ?? new Http2SessionManager(o.baseUrl);
    const transport = createGrpcTransport({ baseUrl: o.baseUrl, sessionManager: this.sessionManager });
    const client = createClient(WorkerService, transport);
    const headers: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};
    const stream = client.connect(this.out, { headers });
    this.done = (async () => {
      try {
        for await (const m of stream) this.onMessage(m);
      } catch (err) {
        this.endError = err;
      } finally {
        this.ended = true;
      }
    })();
  }

  private onMessage(m: ServerMessage): void {
    this.received.push(m);
    switch (m.msg.case) {
      case 'registerResponse':
        this.registration = m.msg.value;
        break;
      case 'job':
        this.jobs.push(m.msg.value);
        this.o.onJob?.(m.msg.value, this);
        break;
      case 'resultAck':
        this.acks.push(m.msg.value);
        this.o.onAck?.(m.msg.value, this);
        break;
      case 'leaseRenewed':
        this.renewals.push(m.msg.value);
        break;
      case 'ping': {
        const p = m.msg.value;
        this.pings.push(p);
        this.o.onPing?.(p, this);
        if (this.answerPings) {
          const t = BigInt(Date.now());
          this.send({ msg: { case: 'pong', value: { pingSentAtMs: p.sentAtMs, seq: p.seq, receivedAtMs: t, sentAtMs: t } } });
        }
        break;
      }
      default:
        break;
    }
  }

  send(m: WorkerMessageInit): void {
    this.out.push(create(WorkerMessageSchema, m));
  }

  register(extra: { version?: string; capabilities?: string[] } = {}): void {
    this.send({
      msg: {
        case: 'register',
        value: {
          version: extra.version ?? 'sim-1',
          region: this.o.region ?? 'global',
          capabilities: extra.capabilities ?? ['http'],
          hostname: this.o.hostname ?? 'sim',
          workerId: this.o.workerId ?? '',
          maxConcurrent: 32,
        },
      },
    });
  }

  requestJobs(count: number): void {
    this.send({ msg: { case: 'jobRequest', value: { count } } });
  }

  renew(runIds: string[]): void {
    this.send({ msg: { case: 'leaseRenewal', value: { runIds } } });
  }

  sendResult(job: Pick<Job, 'runId' | 'monitorId'>, over: Partial<ResultInit> = {}): ResultInit {
    const now = BigInt(Date.now());
    const r = {
      runId: job.runId,
      monitorId: job.monitorId,
      eventAtMs: now,
      startedAtMs: now,
      finishedAtMs: now + 3n,
      status: 'up',
      httpCode: 200,
      dnsMs: 0.5,
      connectMs: 0.4,
      ttfbMs: 2,
      downloadMs: 0.1,
      totalMs: 3,
      sizeBytes: 120n,
      ...over,
    } as ResultInit;
    this.send({ msg: { case: 'result', value: r } });
    return r;
  }

  /** Ends our side of the stream and waits for the server to finish it. */
  async close(): Promise<void> {
    this.out.end();
    await this.done;
    if (this.ownSession) this.sessionManager.abort();
  }

  /** Drops the connection without a goodbye (a crashed worker). */
  async kill(): Promise<void> {
    this.sessionManager.abort(new Error('killed'));
    this.out.end();
    await this.done;
  }

  finished(): Promise<void> {
    return this.done;
  }
}
