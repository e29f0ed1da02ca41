import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { WorkerMessageSchema } from '../../src/gen/vantage/v1/worker_pb.js';
import { AsyncQueue } from '../../src/platform/async-queue.js';
import { WorkerSession, type ServerMessageInit, type SessionDeps } from '../../src/api/worker/session.js';
import { WorkerStreams } from '../../src/monitoring/control/worker-streams.js';
import type { IngestOutcome } from '../../src/store/monitoring.js';
import type { JobDispatcher } from '../../src/monitoring/control/job-dispatcher.js';
import type { IngestQueue } from '../../src/monitoring/control/ingest.js';
import type { WorkerActivity } from '../../src/monitoring/control/inactivity.js';
import { tempStore, type TempStore } from './helpers.js';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.close());

function setup() {
  const out = new AsyncQueue<ServerMessageInit>();
  const streams = new WorkerStreams();
  const owed: Array<(o: IngestOutcome) => void> = [];
  let pokes = 0;
  const seen: string[] = [];
  const failures: string[] = [];
  const deps: SessionDeps = {
    store: t.store,
    streams,
    dispatcher: { poke: () => void pokes++ } as unknown as JobDispatcher,
    ingest: { submit: () => new Promise<IngestOutcome>((r) => owed.push(r)) } as unknown as IngestQueue,
    activity: { seen: (id: string) => void seen.push(id) } as unknown as WorkerActivity,
    now: () => 1_000,
    timers: { setTimeout: () => 0, clearTimeout: () => undefined },
    leaseMs: 45_000,
    renewIntervalMs: 10_000,
    leadMs: 2_000,
    registerTimeoutMs: 10_000,
  };
  const session = new WorkerSession(deps, out, (reason) => {
    failures.push(reason);
    out.end(new Error(reason));
  });
  const msg = (m: Parameters<typeof create<typeof WorkerMessageSchema>>[1]) => create(WorkerMessageSchema, m);
  /** Reads what the session has queued for the worker so far. */
  const take = async (): Promise<ServerMessageInit[]> => {
    const it = out[Symbol.asyncIterator]();
    const items: ServerMessageInit[] = [];
    for (let n = out.length; n > 0; n--) {
      const r = await it.next();
      if (!r.done) items.push(r.value);
    }
    return items;
  };
  return { out, streams, owed, session, msg, take, failures, seen, pokes: () => pokes };
}

const resultMsg = { runId: 'r1', monitorId: 'm', eventAtMs: 5n, startedAtMs: 5n, finishedAtMs: 6n, status: 'up', httpCode: 200 };

describe('WorkerSession', () => {
  it('after a half-close it sends the acks it still owes, then ends the stream', async () => {
    const s = setup();
    await s.session.handle(s.msg({ msg: { case: 'register', value: { region: 'eu', workerId: 'w1' } } }));
    expect(s.streams.get('w1')).toBe(s.session);
    await s.session.handle(s.msg({ msg: { case: 'result', value: resultMsg } }));
    await s.take();
    s.session.endOfInput();
    expect(s.out.closed).toBe(false); // an ack is still owed
    expect(s.streams.get('w1')).toBeUndefined(); // but no more jobs
    await s.session.handle(s.msg({ msg: { case: 'jobRequest', value: { count: 5 } } }));
    expect(s.session.credits).toBe(0);
    s.owed[0]!('stored');
    await new Promise((r) => setImmediate(r));
    const sent = await s.take();
    expect(sent.map((m) => m.msg?.case)).toEqual(['resultAck']);
    expect(s.out.closed).toBe(true);
    expect(s.failures).toEqual([]);
  });

  it('refuses anything before register, and a second register', async () => {
    const a = setup();
    await a.session.handle(a.msg({ msg: { case: 'jobRequest', value: { count: 1 } } }));
    expect(a.failures).toEqual(['the first message must be register']);
    const b = setup();
    await b.session.handle(b.msg({ msg: { case: 'register', value: { workerId: 'w2' } } }));
    await b.session.handle(b.msg({ msg: { case: 'register', value: { workerId: 'w2' } } }));
    expect(b.failures).toEqual(['register sent twice']);
  });

  it('caps credits, marks the worker seen, and maps lease_lost to committed=false', async () => {
    const s = setup();
    await s.session.handle(s.msg({ msg: { case: 'register', value: { workerId: 'w3', region: 'eu' } } }));
    await s.session.handle(s.msg({ msg: { case: 'jobRequest', value: { count: 1_000_000 } } }));
    expect(s.session.credits).toBe(10_000);
    expect(s.pokes()).toBe(1);
    expect(s.seen).toContain('w3');
    await s.session.handle(s.msg({ msg: { case: 'result', value: resultMsg } }));
    s.owed[0]!('lease_lost');
    await new Promise((r) => setImmediate(r));
    const ack = (await s.take()).find((m) => m.msg?.case === 'resultAck');
    expect(ack?.msg?.value).toMatchObject({ runId: 'r1', committed: false, reason: 'lease_lost' });
  });

  it('rejects an invalid region or worker id at registration', async () => {
    for (const value of [{ region: 'bad region' }, { workerId: '../etc' }]) {
      const s = setup();
      await s.session.handle(s.msg({ msg: { case: 'register', value } }));
      const [resp] = await s.take();
      expect(resp?.msg?.case).toBe('registerResponse');
      expect(resp?.msg?.value).toMatchObject({ accepted: false });
      expect(s.out.closed).toBe(true);
    }
  });
});
