/**
 * The shared overview cache (src/api/web/overview-cache.ts) with an injected clock and a counting dashboard
 * store: reused while younger than its TTL, shared by concurrent callers, recomputed after the TTL, when the
 * clock goes back, per limit, and after a failure.
 */
import { describe, expect, it } from 'vitest';
import { createOverviewCache } from '../../src/api/web/overview-cache.js';
import type { DashboardStore } from '../../src/store/dashboard.js';

function countingStore(): { store: DashboardStore; calls: () => number; fail: { next: boolean }; release: () => void; hold: { on: boolean } } {
  let n = 0;
  const fail = { next: false };
  const hold = { on: false };
  let waiters: Array<() => void> = [];
  const gate = () => (hold.on ? new Promise<void>((r) => waiters.push(r)) : Promise.resolve());
  const store: DashboardStore = {
    counts: async () => {
      n += 1;
      await gate();
      if (fail.next) {
        fail.next = false;
        throw new Error('database down');
      }
      return { total: n, up: n, down: 0, paused: 0, pending: 0 };
    },
    runsSince: async () => ({ runs: 0, failures: 0 }),
    recentFailures: async () => [],
    slowest: async () => [],
    listMonitors: async () => [],
    countMonitors: async () => 0,
    summaries: async () => [],
  };
  return {
    store,
    calls: () => n,
    fail,
    hold,
    release: () => {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
  };
}

describe('overview cache', () => {
  it('reuses an answer younger than the TTL and recomputes after it, or when the clock goes back', async () => {
    const clock = { now: 1_000_000 };
    const s = countingStore();
    const cache = createOverviewCache({ dashboard: s.store, now: () => clock.now }, 2_000);
    expect((await cache.get(10)).monitorsTotal).toBe(1);
    clock.now += 1_999;
    expect((await cache.get(10)).monitorsTotal).toBe(1);
    expect(s.calls()).toBe(1);
    clock.now += 1;
    expect((await cache.get(10)).monitorsTotal).toBe(2);
    clock.now -= 10_000;
    expect((await cache.get(10)).monitorsTotal).toBe(3);
    // Another limit is another answer.
    expect((await cache.get(5)).monitorsTotal).toBe(4);
    expect((await cache.get(10)).monitorsTotal).toBe(3);
  });

  it('shares one computation among concurrent callers; a failure is not kept', async () => {
    const clock = { now: 0 };
    const s = countingStore();
    const cache = createOverviewCache({ dashboard: s.store, now: () => clock.now }, 2_000);
    s.hold.on = true;
    const a = cache.get(10);
    const b = cache.get(10);
    s.hold.on = false;
    s.release();
    expect((await a).monitorsTotal).toBe(1);
    expect(await b).toBe(await a);
    expect(s.calls()).toBe(1);

    clock.now += 5_000;
    s.fail.next = true;
    await expect(cache.get(10)).rejects.toThrow('database down');
    expect((await cache.get(10)).monitorsTotal).toBe(3);
  });
});
