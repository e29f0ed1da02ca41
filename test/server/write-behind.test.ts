import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Timers as TimerFns } from '../../src/platform/timers.js';
import { WriteBehind } from '../../src/lb/write-behind.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import type { LbClient, LbStats, LbStore, LbWriteBatch } from '../../src/store/lb.js';
import { tempDir } from './helpers.js';

/** Timers the test fires by hand. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  const timers: TimerFns = {
    setTimeout: (fn, ms) => {
      const id = next++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return {
    timers,
    delays: () => [...pending.values()].map((t) => t.ms),
    fire: () => {
      const list = [...pending.entries()];
      pending.clear();
      for (const [, t] of list) t.fn();
    },
  };
}

const client = (id: string): LbClient => ({
  clientId: id,
  hostname: id,
  endpoint: `http://${id}:1`,
  publicIp: null,
  localIp: null,
  lat: null,
  lon: null,
  country: null,
  city: null,
  totalCpu: 2,
  totalMemoryGb: 4,
  totalStorageGb: 10,
  totalGpus: 0,
  gpuModels: [],
  endpoints: [],
  createdAt: 1,
  lastSeen: 1,
});

const stats = (id: string, ts: number): LbStats => ({
  clientId: id,
  timestamp: ts,
  cpuUsage: [1, 2],
  memoryTotalGb: 4,
  memoryUsedGb: 1,
  memoryAvailGb: 3,
  diskTotalGb: 10,
  diskUsedGb: 1,
  diskAvailGb: 9,
  gpus: [],
});

const flushed = () => new Promise((r) => setImmediate(r));

describe('WriteBehind (real SQLite store)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: OpenedStore;
  beforeEach(async () => {
    tmp = tempDir('vantage-wb-');
    store = openSqliteStore(`${tmp.dir}/wb.db`);
    await store.lb.upsertClient(client('a'));
    await store.lb.upsertClient(client('b'));
  });
  afterEach(() => {
    store.close();
    tmp.cleanup();
  });

  it('writes nothing until the interval timer fires, then everything in one batch', async () => {
    const t = manualTimers();
    const batches: LbWriteBatch[] = [];
    const lb: Pick<LbStore, 'writeBatch'> = { writeBatch: (b) => (batches.push(b), store.lb.writeBatch(b)) };
    const wb = new WriteBehind({ store: lb, timers: t.timers, flushIntervalMs: 1000 });
    wb.addStats(stats('a', 1));
    wb.addStats(stats('a', 2));
    wb.touch({ clientId: 'a', lastSeen: 50, location: { lat: 1, lon: 2 } });
    wb.touch({ clientId: 'a', lastSeen: 60 });
    wb.stickyChange({ type: 'set', assignment: { stickyId: 's', tier: 'small', clientId: 'a', createdAt: 5, lastUsed: 5 } });
    wb.stickyChange({ type: 'set', assignment: { stickyId: 's', tier: 'small', clientId: 'b', createdAt: 5, lastUsed: 9 } });
    expect(t.delays()).toEqual([1000]);
    expect(await store.lb.countStats()).toBe(0);
    expect(wb.pending()).toBe(4);
    t.fire();
    await flushed();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.touches).toEqual([{ clientId: 'a', lastSeen: 60, location: { lat: 1, lon: 2 } }]);
    expect(await store.lb.countStats()).toBe(2);
    expect(await store.lb.listSticky()).toEqual([{ stickyId: 's', tier: 'small', clientId: 'b', createdAt: 5, lastUsed: 9 }]);
    expect((await store.lb.listClients())[0]).toMatchObject({ lastSeen: 60, lat: 1, lon: 2 });
    expect(wb.pending()).toBe(0);
  });

  it('commits new sticky assignments as a group before acknowledging them; re-used ones stay write-behind', async () => {
    const t = manualTimers();
    const batches: LbWriteBatch[] = [];
    const lb: Pick<LbStore, 'writeBatch'> = { writeBatch: (b) => (batches.push(b), store.lb.writeBatch(b)) };
    const wb = new WriteBehind({ store: lb, timers: t.timers, flushIntervalMs: 1000 });
    // A re-used assignment (created earlier, used now) needs no commit before answering.
    wb.stickyChange({ type: 'set', assignment: { stickyId: 'old', tier: 'small', clientId: 'a', createdAt: 1, lastUsed: 7 } });
    expect(wb.commitNewSticky()).toBeNull();
    // Two new assignments in the same turn share one transaction.
    wb.stickyChange({ type: 'set', assignment: { stickyId: 's1', tier: 'small', clientId: 'a', createdAt: 8, lastUsed: 8 } });
    const c1 = wb.commitNewSticky();
    wb.stickyChange({ type: 'set', assignment: { stickyId: 's2', tier: 'small', clientId: 'b', createdAt: 8, lastUsed: 8 } });
    const c2 = wb.commitNewSticky();
    expect(c1).not.toBeNull();
    expect(c2).toBe(c1);
    expect(await store.lb.listSticky()).toEqual([]);
    await c1;
    expect(batches).toHaveLength(1);
    expect((await store.lb.listSticky()).map((x) => x.stickyId).sort()).toEqual(['old', 's1', 's2']);
    expect(wb.pending()).toBe(0);
    // Nothing new since: nothing to wait for.
    expect(wb.commitNewSticky()).toBeNull();
  });

  it('an unconfirmed claim is waited for (queued or in flight); a lost one is adopted before the waiters resume', async () => {
    const t = manualTimers();
    await store.lb.writeBatch({ stats: [], touches: [], sticky: [{ type: 'set', assignment: { stickyId: 'won', tier: 'small', clientId: 'b', createdAt: 1, lastUsed: 1 } }] });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const lb: Pick<LbStore, 'writeBatch'> = { writeBatch: async (b) => (await gate, store.lb.writeBatch(b)) };
    const adopted: string[] = [];
    const wb = new WriteBehind({ store: lb, timers: t.timers, onAdopt: (w) => adopted.push(...w.map((x) => `${x.stickyId}:${x.clientId}`)) });
    // a confirmed assignment (a refresh of the backend it names) is never waited for
    wb.stickyChange({ type: 'set', assignment: { stickyId: 'known', tier: 'small', clientId: 'a', createdAt: 1, lastUsed: 5 }, prev: 'a' });
    expect(wb.commitSticky('known', 'small')).toBeNull();
    // this replica claims "won" for a, but b holds it in the database
    wb.stickyChange({ type: 'set', assignment: { stickyId: 'won', tier: 'small', clientId: 'a', createdAt: 6, lastUsed: 6 }, prev: null });
    const queued = wb.commitSticky('won', 'small');
    expect(queued).not.toBeNull();
    await new Promise((r) => setImmediate(r));
    // the batch is in flight now: a second request for the same id waits for the same answer
    const inFlight = wb.commitSticky('won', 'small');
    expect(inFlight).not.toBeNull();
    expect(adopted).toEqual([]);
    release();
    await Promise.all([queued, inFlight]);
    expect(adopted).toEqual(['won:b']);
    expect(await store.lb.listSticky()).toEqual([
      { stickyId: 'known', tier: 'small', clientId: 'a', createdAt: 1, lastUsed: 5 },
      { stickyId: 'won', tier: 'small', clientId: 'b', createdAt: 1, lastUsed: 1 },
    ]);
    expect(wb.commitSticky('won', 'small')).toBeNull();
  });

  it('a failed group commit rejects its waiters and keeps the assignment queued for the next flush', async () => {
    const t = manualTimers();
    let fail = true;
    const lb: Pick<LbStore, 'writeBatch'> = { writeBatch: async (b) => (fail ? Promise.reject(new Error('disk full')) : store.lb.writeBatch(b)) };
    const wb = new WriteBehind({ store: lb, timers: t.timers });
    wb.stickyChange({ type: 'set', assignment: { stickyId: 's', tier: 'small', clientId: 'a', createdAt: 3, lastUsed: 3 } });
    await expect(wb.commitNewSticky()).rejects.toThrow('disk full');
    expect(wb.pending()).toBe(1);
    fail = false;
    await wb.flush();
    expect(await store.lb.listSticky()).toEqual([{ stickyId: 's', tier: 'small', clientId: 'a', createdAt: 3, lastUsed: 3 }]);
  });

  it('flushes at once when maxBatch stats rows are queued', async () => {
    const t = manualTimers();
    const wb = new WriteBehind({ store: store.lb, timers: t.timers, flushIntervalMs: 1000, maxBatch: 3 });
    wb.addStats(stats('a', 1));
    wb.addStats(stats('a', 2));
    expect(t.delays()).toEqual([1000]);
    wb.addStats(stats('a', 3));
    expect(t.delays()).toEqual([0]);
    t.fire();
    await flushed();
    expect(await store.lb.countStats()).toBe(3);
  });

  it('keeps a failed batch and retries it; a newer sticky change wins over the requeued one', async () => {
    const t = manualTimers();
    let failNext = true;
    const lb: Pick<LbStore, 'writeBatch'> = {
      writeBatch: async (b) => {
        if (failNext) {
          failNext = false;
          throw new Error('disk full');
        }
        return store.lb.writeBatch(b);
      },
    };
    const wb = new WriteBehind({ store: lb, timers: t.timers });
    wb.addStats(stats('a', 1));
    wb.stickyChange({ type: 'set', assignment: { stickyId: 's', tier: 'small', clientId: 'a', createdAt: 1, lastUsed: 1 } });
    await expect(wb.flush()).rejects.toThrow('disk full');
    expect(wb.pending()).toBe(2);
    wb.stickyChange({ type: 'delete', stickyId: 's', tier: 'small' });
    wb.addStats(stats('a', 2));
    await wb.flush();
    expect(await store.lb.countStats()).toBe(2);
    expect(await store.lb.listSticky()).toEqual([]);
    expect(wb.pending()).toBe(0);
  });

  it('close() writes what is queued and stops the timer', async () => {
    const t = manualTimers();
    const wb = new WriteBehind({ store: store.lb, timers: t.timers });
    wb.addStats(stats('b', 1));
    await wb.close();
    expect(t.delays()).toEqual([]);
    expect(await store.lb.countStats('b')).toBe(1);
  });

  it('concurrent flushes never write a change twice', async () => {
    const wb = new WriteBehind({ store: store.lb, timers: manualTimers().timers });
    for (let i = 0; i < 50; i++) wb.addStats(stats('a', i));
    await Promise.all([wb.flush(), wb.flush(), wb.flush()]);
    expect(await store.lb.countStats()).toBe(50);
  });

  it('bounds the queue while writes fail, dropping the oldest stats', async () => {
    const lb: Pick<LbStore, 'writeBatch'> = { writeBatch: () => Promise.reject(new Error('down')) };
    const wb = new WriteBehind({ store: lb, timers: manualTimers().timers, maxQueuedStats: 3, maxBatch: 100 });
    for (let i = 0; i < 5; i++) wb.addStats(stats('a', i));
    await expect(wb.flush()).rejects.toThrow('down');
    expect(wb.pending()).toBe(3);
    expect(wb.droppedStats()).toBe(2);
  });
});
