/**
 * What the store contract suite (test/store/contract/) cannot say on its own: a restarted server (a new
 * connection to the same database file) never creates a run twice. Every other monitoring store scenario lives in
 * the contract suite.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/index.js';
import { planRuns } from '../../src/monitoring/domain/schedule-math.js';
import { newRunId } from '../../src/platform/ids.js';
import { spec, tempStore, type TempStore } from './helpers.js';

const T0 = 1_700_000_000_000;
const plan = (m: Parameters<typeof planRuns>[0], now: number) => planRuns(m, now, 5_000);

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.close());

describe('scheduleDue across a restart', () => {
  it('a restart (new connection, same file) never duplicates a run, even when the clock goes back', async () => {
    await t.store.createMonitor(spec({ interval_ms: 10_000 }), { id: 'm1', actor: 'test', now: T0, jitterSeed: 7 });
    for (let now = T0; now < T0 + 60_000; now += 1_000) await t.store.scheduleDue(now, 5_000, (m) => plan(m, now), newRunId);
    const second = openSqliteStore(t.path);
    try {
      for (let now = T0 + 50_000; now < T0 + 120_000; now += 1_000) await second.monitoring.scheduleDue(now, 5_000, (m) => plan(m, now), newRunId);
      const jobs = await second.monitoring.leaseJobs({ workerId: 'w', region: 'global', count: 1_000, now: T0, leadMs: 10 * 60_000, leaseMs: 1 });
      const times = jobs.map((j) => j.scheduled_at);
      expect(new Set(times).size).toBe(times.length);
      // slots T0, T0+10s, … up to the last horizon T0 + 119s + 5s
      expect(times).toEqual(Array.from({ length: 13 }, (_, i) => T0 + i * 10_000));
    } finally {
      second.close();
    }
  });
});
