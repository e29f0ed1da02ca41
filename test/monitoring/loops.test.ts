import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { LeasedJob, MonitoringStore } from '../../src/store/monitoring.js';
import { JobDispatcher } from '../../src/monitoring/control/job-dispatcher.js';
import { IngestQueue } from '../../src/monitoring/control/ingest.js';
import { SingleNodeLeader } from '../../src/store/sqlite/leader.js';
import type { LeaderElector } from '../../src/store/leader.js';
import { createMonitoringMetrics } from '../../src/monitoring/control/metrics.js';
import { LeaseReaper } from '../../src/monitoring/control/reaper.js';
import { WorkerStreams, type WorkerLink } from '../../src/monitoring/control/worker-streams.js';
import { Scheduler } from '../../src/monitoring/control/scheduler.js';
import { estimateClock, healthAction, newHealthState, recordPing, recordPong, StreamHealthMonitor } from '../../src/monitoring/control/stream-health.js';
import { every, periodic, PeriodicTask } from '../../src/platform/periodic.js';
import type { Timers } from '../../src/platform/timers.js';
import { result, spec, tempStore, type TempStore } from './helpers.js';
import { seedLeasedJobs } from '../store/contract/fixtures.js';

/** Manual timers: callbacks run only when the test advances the clock. */
class FakeTimers implements Timers {
  now = 0;
  private seq = 0;
  private pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  /** Advances time, running due callbacks in order and letting their promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      for (let i = 0; i < 20; i++) await Promise.resolve();
      const next = [...this.pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
    this.now = end;
  }
  get size(): number {
    return this.pending.size;
  }
}

const T0 = 1_700_000_000_000;
let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.close());

describe('periodic', () => {
  it('runs every interval, never overlapping, and stops', async () => {
    const timers = new FakeTimers();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let release: (() => void) | null = null;
    const p = periodic(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        runs++;
        if (runs === 2) await new Promise<void>((r) => (release = r));
        running--;
      },
      1_000,
      { timers },
    );
    await timers.advance(999);
    expect(runs).toBe(0);
    await timers.advance(1);
    expect(runs).toBe(1);
    await timers.advance(1_000);
    expect(runs).toBe(2); // now blocked
    await timers.advance(5_000);
    expect(runs).toBe(2); // no new run while one is in progress, no timer pending
    expect(timers.size).toBe(0);
    release!();
    await timers.advance(0);
    await timers.advance(1_000);
    expect(runs).toBe(3);
    expect(maxRunning).toBe(1);
    await p.stop();
    await timers.advance(10_000);
    expect(runs).toBe(3);
  });

  it('keeps running after a failing pass and reports the error', async () => {
    const timers = new FakeTimers();
    const errors: unknown[] = [];
    let runs = 0;
    const p = periodic(
      () => {
        runs++;
        if (runs === 1) throw new Error('boom');
      },
      10,
      { timers, onError: (e) => errors.push(e) },
    );
    await timers.advance(30);
    expect(runs).toBe(3);
    expect(errors).toHaveLength(1);
    await p.stop();
  });
});

describe('PeriodicTask', () => {
  it('runs only while its leader gate is open, on the loop and on demand', async () => {
    const timers = new FakeTimers();
    let leader = false;
    let runs = 0;
    const task = new PeriodicTask(() => ++runs, { gate: { isLeader: () => leader } });
    expect(await task.run()).toBeNull();
    task.start(1_000, timers);
    await timers.advance(3_000);
    expect(runs).toBe(0);
    leader = true;
    await timers.advance(2_000);
    expect(runs).toBe(2);
    expect(await task.run()).toBe(3);
    leader = false;
    await timers.advance(2_000);
    expect(runs).toBe(3);
    await task.stop();
    expect(timers.size).toBe(0);
  });

  it('fencing: a gate with confirm() is asked right before each pass, and a refused confirmation skips the pass', async () => {
    let held = true;
    let asked = 0;
    let runs = 0;
    const task = new PeriodicTask(() => ++runs, {
      gate: {
        isLeader: () => true,
        confirm: async () => {
          asked++;
          return held;
        },
      },
    });
    expect(await task.run()).toBe(1);
    held = false; // the lock was lost a moment ago; the cached isLeader() has not caught up
    expect(await task.run()).toBeNull();
    expect([asked, runs]).toEqual([2, 1]);
  });

  it('stop() waits for the pass in progress and ends the loop; a predicate gate works too', async () => {
    const timers = new FakeTimers();
    let release: (() => void) | null = null;
    let runs = 0;
    const task = new PeriodicTask(
      async () => {
        runs++;
        await new Promise<void>((r) => (release = r));
      },
      { gate: () => true, runAtStart: true },
    );
    task.start(1_000, timers);
    task.start(1_000, timers); // a second start while running does nothing
    await timers.advance(0);
    expect(runs).toBe(1);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await timers.advance(0);
    expect(stopped).toBe(false);
    release!();
    await stopping;
    await timers.advance(10_000);
    expect(runs).toBe(1);
  });
});

describe('every', () => {
  it('keeps a fixed cadence, skips the runs an overrun missed, and resolves when aborted', async () => {
    const timers = new FakeTimers();
    const starts: number[] = [];
    const ac = new AbortController();
    const loop = every(
      1_000,
      async () => {
        starts.push(timers.now);
        // the third run overruns by 1.5 intervals
        if (starts.length === 3) await new Promise<void>((r) => timers.setTimeout(r, 2_500));
        else await new Promise<void>((r) => timers.setTimeout(r, 100));
      },
      ac.signal,
      () => timers.now,
      timers,
    );
    await timers.advance(6_000);
    expect(starts).toEqual([0, 1_000, 2_000, 5_000, 6_000]);
    ac.abort(); // during the run that started at 6 000: the loop ends when it does
    let ended = false;
    void loop.then(() => (ended = true));
    await timers.advance(50);
    expect(ended).toBe(false);
    await timers.advance(50);
    await loop;
    await timers.advance(5_000);
    expect(starts).toHaveLength(5);
    expect(timers.size).toBe(0);
  });

  it('rejects and stops when a run throws; never runs with an aborted signal', async () => {
    const timers = new FakeTimers();
    let runs = 0;
    const loop = every(
      1_000,
      async () => {
        if (++runs === 2) throw new Error('boom');
      },
      new AbortController().signal,
      () => timers.now,
      timers,
    );
    const settled = loop.catch((e: unknown) => e);
    await timers.advance(5_000);
    expect(await settled).toBeInstanceOf(Error);
    expect(runs).toBe(2);
    const ac = new AbortController();
    ac.abort();
    await every(1_000, async () => void runs++, ac.signal, () => timers.now, timers);
    expect(runs).toBe(2);
  });
});

describe('Scheduler', () => {
  it('creates jobs only as leader, reports them, and never duplicates across ticks', async () => {
    let leader = false;
    const elector: LeaderElector = { isLeader: () => leader, start: async () => {}, stop: async () => {} };
    let now = T0;
    const seen: number[] = [];
    const registry = new Registry();
    const metrics = createMonitoringMetrics(registry);
    const s = new Scheduler({ store: t.store, leader: elector, now: () => now, intervalMs: 1_000, lookaheadMs: 5_000, metrics, onJobs: (o) => seen.push(o.jobs) });
    await t.store.createMonitor(spec({ interval_ms: 2_000, regions: ['a', 'b'] }), { id: 'm', actor: 't', now: T0, jitterSeed: 1 });
    expect(await s.tick()).toBeNull();
    expect((await t.store.countJobs()).ready).toBe(0);
    leader = true;
    for (; now < T0 + 10_000; now += 1_000) await s.tick();
    // slots T0, T0+2s … T0+14s (last horizon T0+9s+5s) × 2 regions
    expect((await t.store.countJobs()).ready).toBe(16);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(16);
    expect((await registry.getSingleMetricAsString('vantage_monitoring_jobs_scheduled_total'))).toMatch(/ 16$/m);
  });
});

describe('LeaseReaper', () => {
  it('requeues expired leases on its tick and tells the dispatcher', async () => {
    await t.store.createMonitor(spec({ interval_ms: 5_000 }), { id: 'm', actor: 't', now: T0, jitterSeed: 1 });
    await new Scheduler({ store: t.store, leader: new SingleNodeLeader(), now: () => T0, intervalMs: 1_000, lookaheadMs: 0 }).tick();
    await t.store.leaseJobs({ workerId: 'w', region: 'global', count: 1, now: T0, leadMs: 0, leaseMs: 45_000 });
    let requeued = 0;
    let now = T0 + 45_000;
    const r = new LeaseReaper({ store: t.store, leader: new SingleNodeLeader(), now: () => now, intervalMs: 5_000, maxAttempts: 3, missedAfterMs: 600_000, onRequeued: (n) => (requeued += n) });
    expect(await r.tick()).toEqual({ requeued: 0, expired: 0, missed: 0 });
    now += 1;
    expect(await r.tick()).toEqual({ requeued: 1, expired: 0, missed: 0 });
    expect(requeued).toBe(1);
  });
});

function fakeLink(workerId: string, region: string, credits: number, deliver = true): WorkerLink & { got: LeasedJob[]; closed: string | null; pings: number[] } {
  const link = {
    streamId: `s-${workerId}`,
    workerId,
    region,
    credits,
    health: newHealthState(0),
    got: [] as LeasedJob[],
    closed: null as string | null,
    pings: [] as number[],
    deliverJobs(jobs: LeasedJob[]) {
      if (!deliver) return false;
      link.got.push(...jobs);
      return true;
    },
    sendPing(seq: number) {
      link.pings.push(seq);
    },
    close(reason: string) {
      link.closed = reason;
    },
  };
  return link;
}

describe('JobDispatcher', () => {
  async function readyJobs(n: number, region = 'global') {
    for (let i = 0; i < n; i++) await t.store.createMonitor(spec({ interval_ms: 5_000, regions: [region] }), { id: `m-${region}-${i}`, actor: 't', now: T0, jitterSeed: i });
    await new Scheduler({ store: t.store, leader: new SingleNodeLeader(), now: () => T0, intervalMs: 1_000, lookaheadMs: 0 }).tick();
  }

  it('leases exactly the credits each worker granted, and keeps unused credit for later jobs', async () => {
    await readyJobs(10);
    const streams = new WorkerStreams();
    const a = fakeLink('a', 'eu', 3);
    const b = fakeLink('b', 'us', 20);
    streams.add(a);
    streams.add(b);
    const d = new JobDispatcher({ store: t.store, streams, now: () => T0, leaseMs: 45_000, leadMs: 2_000 });
    await d.pass();
    // each worker got at most what it asked for; together they drained the queue
    expect(a.got.length + a.credits).toBe(3);
    expect(b.got.length + b.credits).toBe(20);
    expect(a.got.length + b.got.length).toBe(10);
    const before = a.got.length;
    await readyJobs(2, 'us');
    await d.pass();
    // us jobs go only to the us worker (which still has credit)
    expect(a.got.length).toBe(before);
    expect(b.got.filter((j) => j.region === 'us')).toHaveLength(2);
    expect(new Set([...a.got, ...b.got].map((j) => j.run_id)).size).toBe(12);
  });

  it('a stream that vanished while leasing leaves its leases to the reaper', async () => {
    await readyJobs(2);
    const streams = new WorkerStreams();
    streams.add(fakeLink('gone', 'eu', 5, false));
    await new JobDispatcher({ store: t.store, streams, now: () => T0, leaseMs: 45_000, leadMs: 2_000 }).pass();
    expect(await t.store.countJobs()).toMatchObject({ ready: 0, leased: 2 });
    const r = await t.store.reapExpired({ now: T0 + 45_001, maxAttempts: 3, missedBefore: 0 });
    expect(r.requeued).toBe(2);
  });
});

describe('stream health', () => {
  const cfg = { pingIntervalMs: 15_000, pongTimeoutMs: 10_000 };

  it('pings idle streams every interval and closes one whose pong is late', () => {
    const s = newHealthState(0);
    expect(healthAction(s, 14_999, cfg)).toBe('none');
    expect(healthAction(s, 15_000, cfg)).toBe('ping');
    const seq = recordPing(s, 15_000);
    expect(healthAction(s, 25_000, cfg)).toBe('none');
    expect(healthAction(s, 25_001, cfg)).toBe('close');
    expect(recordPong(s, { seq: seq + 1, pingSentAt: 15_000, receivedAt: 0, sentAt: 0 }, 16_000)).toBe(false);
    expect(recordPong(s, { seq, pingSentAt: 15_000, receivedAt: 15_505, sentAt: 15_506 }, 15_011)).toBe(true);
    expect(healthAction(s, 25_001, cfg)).toBe('none');
    expect(healthAction(s, 30_000, cfg)).toBe('ping');
    expect(s.clock).toEqual({ offsetMs: 500, rttMs: 10 });
  });

  it('estimates the clock offset NTP-style', () => {
    // worker clock 500 ms ahead, 10 ms each way, 1 ms processing
    expect(estimateClock(0, 510, 511, 21)).toEqual({ offsetMs: 500, rttMs: 20 });
    // worker behind by 2 s, asymmetric delays bound the error by half the RTT
    const e = estimateClock(1_000, 1_030 - 2_000, 1_031 - 2_000, 1_041);
    expect(Math.abs(e.offsetMs - -2_000)).toBeLessThanOrEqual(e.rttMs / 2);
  });

  it('the monitor pings and then closes a silent stream on a fake clock', () => {
    let now = 0;
    const streams = new WorkerStreams();
    const link = fakeLink('w', 'eu', 0);
    streams.add(link);
    const m = new StreamHealthMonitor({ streams, now: () => now, config: cfg });
    now = 15_000;
    expect(m.tick()).toEqual({ pinged: 1, closed: 0 });
    now = 20_000;
    expect(m.tick()).toEqual({ pinged: 0, closed: 0 });
    now = 25_001;
    expect(m.tick()).toEqual({ pinged: 0, closed: 1 });
    expect(link.closed).toBe('pong timeout');
  });
});

/** The store with each ingestResults call's batch size recorded. */
function countingBatches(real: MonitoringStore): { store: MonitoringStore; batches: number[] } {
  const batches: number[] = [];
  const store = new Proxy(real, {
    get(target, prop, recv) {
      if (prop === 'ingestResults') {
        return (items: Parameters<MonitoringStore['ingestResults']>[0], now: number) => {
          batches.push(items.length);
          return target.ingestResults(items, now);
        };
      }
      return Reflect.get(target, prop, recv) as unknown;
    },
  });
  return { store, batches };
}

describe('IngestQueue', () => {
  it('batches concurrent results into few transactions and acknowledges each after commit', async () => {
    const ids = await seedLeasedJobs(t.store, { monitorId: 'm', runs: Array.from({ length: 2_500 }, (_, i) => T0 + i), now: T0, workerId: 'w' });
    const { store, batches } = countingBatches(t.store);
    const q = new IngestQueue({ store, now: () => T0, maxBatch: 1_000 });
    const outcomes = await Promise.all(ids.map((id, i) => q.submit('w', result(id, T0 + i))));
    expect(outcomes.every((o) => o === 'stored')).toBe(true);
    expect(batches).toEqual([1_000, 1_000, 500]);
    expect(await t.store.listResults({ monitorId: 'm', limit: 10_000 })).toHaveLength(2_500);
    await q.close();
    await expect(q.submit('w', result(ids[0]!, T0))).rejects.toThrow(/shut down/);
  });

  it('groups results that arrive in different event-loop turns within the window into one transaction; the ACK follows its commit', async () => {
    const ids = await seedLeasedJobs(t.store, { monitorId: 'm', runs: [T0, T0 + 1, T0 + 2, T0 + 3], now: T0, workerId: 'w' });
    const { store, batches } = countingBatches(t.store);
    const timers = new FakeTimers();
    const q = new IngestQueue({ store, now: () => T0, windowMs: 10, timers });
    const acked: string[] = [];
    const turn = () => new Promise<void>((r) => setImmediate(r));
    const sent = ids.slice(0, 3).map(async (id, i) => {
      for (let k = 0; k < i; k++) await turn();
      const o = await q.submit('w', result(id, T0 + i));
      acked.push(id);
      return o;
    });
    for (let k = 0; k < 4; k++) await turn();
    // Three event-loop turns later nothing is written yet: the window (10 ms of the injected clock) is open.
    expect(batches).toEqual([]);
    expect(acked).toEqual([]);
    await timers.advance(10);
    expect(await Promise.all(sent)).toEqual(['stored', 'stored', 'stored']);
    expect(batches).toEqual([3]);
    expect(await t.store.listResults({ monitorId: 'm', limit: 10 })).toHaveLength(3);

    // close() writes what is queued without waiting for the window.
    const last = q.submit('w', result(ids[3]!, T0 + 3));
    await q.close();
    expect(await last).toBe('stored');
    expect(batches).toEqual([3, 1]);
  });

  it('a full batch is written at once, without waiting for the window', async () => {
    const ids = await seedLeasedJobs(t.store, { monitorId: 'm', runs: [T0, T0 + 1], now: T0, workerId: 'w' });
    const timers = new FakeTimers();
    const q = new IngestQueue({ store: t.store, now: () => T0, windowMs: 1_000, maxBatch: 2, timers });
    // No timer is advanced: the batch reached maxBatch, so it is flushed on the next turn.
    expect(await Promise.all(ids.map((id, i) => q.submit('w', result(id, T0 + i))))).toEqual(['stored', 'stored']);
    expect(timers.size).toBe(0);
  });

  it('a failed transaction rejects every result of its batch (nothing is acknowledged)', async () => {
    const store = { ingestResults: () => Promise.reject(new Error('disk full')) } as unknown as MonitoringStore;
    const q = new IngestQueue({ store, now: () => T0 });
    const r = await Promise.allSettled([q.submit('w', result('a', 1)), q.submit('w', result('b', 1))]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
  });
});
