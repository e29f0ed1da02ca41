import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { queryMetrics, RollupWorker, uptimeWindows, pickResolution } from '../../src/monitoring/control/rollups.js';
import { LatencySketch, SKETCH_RELATIVE_ACCURACY } from '../../src/monitoring/domain/sketch.js';
import { SingleNodeLeader } from '../../src/store/sqlite/leader.js';
import { result, tempStore, type TempStore } from './helpers.js';
import { seedJobs, seedLeasedJobs } from '../store/contract/fixtures.js';

const T0 = Date.UTC(2025, 0, 1);
const H = 3_600_000;
let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.close());

interface Raw {
  at: number;
  up: boolean;
  ms: number;
  region: string;
}

/** Stores raw results for monitor m through the real path: job → lease → ingest. */
let slot = 0;
async function store(raws: Raw[]): Promise<void> {
  const items: Array<{ workerId: string; result: ReturnType<typeof result> }> = [];
  for (const region of ['eu', 'us']) {
    const mine = raws.filter((r) => r.region === region);
    if (mine.length === 0) continue;
    // distinct slots: when a job is scheduled does not matter here, only the result's event_at does
    const ids = await seedLeasedJobs(t.store, { monitorId: 'm', region, runs: mine.map(() => T0 - 1_000_000 + slot++), now: T0, workerId: 'w' });
    mine.forEach((r, i) => items.push({ workerId: 'w', result: result(ids[i]!, r.at, { status: r.up ? 'up' : 'down', total_ms: r.ms }) }));
  }
  expect(new Set(await t.store.ingestResults(items, T0))).toEqual(new Set(['stored']));
}

function exact(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)]!;
}

const rawArb = fc.record({
  at: fc.integer({ min: T0, max: T0 + 3 * 24 * H }),
  up: fc.boolean(),
  ms: fc.double({ min: 0.1, max: 30_000, noNaN: true }),
  region: fc.constantFrom('eu', 'us'),
});

describe('rollups', () => {
  it('percentiles of any merged range equal the raw data within the sketch error; counts and uptime are exact', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rawArb, { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 3 * 24 * H }), fc.integer({ min: 60_000, max: 3 * 24 * H }), async (raws, offset, span) => {
        // a fresh database per run
        t.close();
        t = tempStore();
        await store(raws);
        while ((await t.store.rollupPending(97)) > 0) {
          /* small batches on purpose: buckets get merged across passes */
        }
        for (const resolution of ['1m', '1h', '1d'] as const) {
          const size = { '1m': 60_000, '1h': H, '1d': 24 * H }[resolution];
          // align the range to buckets so raw and rollups cover the same results
          const from = Math.floor((T0 + offset) / size) * size;
          const to = Math.ceil((T0 + offset + span) / size) * size;
          const inRange = raws.filter((r) => r.at >= from && r.at < to);
          const { total } = await queryMetrics(t.store, { monitorId: 'm', from, to, resolution });
          expect(total.count).toBe(inRange.length);
          expect(total.up_count).toBe(inRange.filter((r) => r.up).length);
          expect(total.error_count).toBe(inRange.filter((r) => !r.up).length);
          const lat = inRange.filter((r) => r.up).map((r) => r.ms);
          if (lat.length === 0) {
            expect(total.p50_ms).toBeNull();
            continue;
          }
          expect(total.min_ms).toBe(Math.min(...lat));
          expect(total.max_ms).toBe(Math.max(...lat));
          expect(total.avg_ms!).toBeCloseTo(lat.reduce((a, b) => a + b, 0) / lat.length, 6);
          for (const [q, got] of [
            [0.5, total.p50_ms],
            [0.95, total.p95_ms],
            [0.99, total.p99_ms],
          ] as const) {
            const want = exact(lat, q);
            expect(Math.abs(got! - want)).toBeLessThanOrEqual(want * SKETCH_RELATIVE_ACCURACY * (1 + 1e-9));
          }
        }
      }),
      { numRuns: 25 },
    );
  });

  it('an hour bucket is exactly the merge of its minute buckets, a day the merge of its hours', async () => {
    const raws: Raw[] = Array.from({ length: 500 }, (_, i) => ({ at: T0 + i * 17_000, up: i % 7 !== 0, ms: 5 + ((i * 37) % 400), region: 'eu' }));
    await store(raws);
    await t.store.rollupPending(10_000);
    const hours = await t.store.queryRollups({ monitorId: 'm', resolution: '1h', from: T0, to: T0 + 24 * H });
    for (const h of hours) {
      const minutes = await t.store.queryRollups({ monitorId: 'm', resolution: '1m', from: h.bucket_start, to: h.bucket_start + H });
      const merged = new LatencySketch();
      for (const m of minutes) merged.merge(LatencySketch.decode(m.sketch));
      const hs = LatencySketch.decode(h.sketch);
      expect([...hs.buckets.entries()].sort()).toEqual([...merged.buckets.entries()].sort());
      expect(h.count).toBe(minutes.reduce((a, m) => a + m.count, 0));
      expect(h.up_count).toBe(minutes.reduce((a, m) => a + m.up_count, 0));
    }
    const [day] = await t.store.queryRollups({ monitorId: 'm', resolution: '1d', from: T0, to: T0 + 24 * H });
    expect(day!.count).toBe(hours.reduce((a, h) => a + h.count, 0));
  });

  it('per-region points are merged; a region filter selects one; late results land in their old bucket', async () => {
    await store([
      { at: T0 + 1_000, up: true, ms: 10, region: 'eu' },
      { at: T0 + 2_000, up: false, ms: 10, region: 'us' },
    ]);
    await t.store.rollupPending(100);
    await store([{ at: T0 + 3_000, up: true, ms: 30, region: 'eu' }]); // arrives after the first fold
    await t.store.rollupPending(100);
    const all = await queryMetrics(t.store, { monitorId: 'm', from: T0, to: T0 + 60_000, resolution: '1m' });
    expect(all.points).toHaveLength(1);
    expect(all.points[0]).toMatchObject({ count: 3, up_count: 2, error_count: 1 });
    expect(all.points[0]!.uptime_pct).toBeCloseTo(66.667, 2);
    const eu = await queryMetrics(t.store, { monitorId: 'm', from: T0, to: T0 + 60_000, resolution: '1m', region: 'eu' });
    expect(eu.total).toMatchObject({ count: 2, up_count: 2, error_rate: 0, uptime_pct: 100, min_ms: 10, max_ms: 30, avg_ms: 20 });
  });

  it('expired runs are not counted; uptime windows read 1h and 1d buckets', async () => {
    await store([{ at: T0 + 1_000, up: true, ms: 10, region: 'eu' }]);
    // a run whose only lease expired (max attempts 1): the reaper stores an expiry result for it
    await seedJobs(t.store, { monitorId: 'm', runs: [T0 + 2_000], now: T0, spec: { regions: ['eu'] } });
    expect(await t.store.leaseJobs({ workerId: 'w', region: 'eu', count: 1, now: T0 + 2_000, leadMs: 0, leaseMs: 1 })).toHaveLength(1);
    expect((await t.store.reapExpired({ now: T0 + 2_002, maxAttempts: 1, missedBefore: 0 })).expired).toBe(1);
    const worker = new RollupWorker({ store: t.store, leader: new SingleNodeLeader(), now: () => T0, retentionDays: { results: 30, rollup1m: 7, rollup1h: 90, rollup1d: 730 } });
    expect(await worker.tick()).toBe(2);
    const u = await uptimeWindows(t.store, 'm', T0 + 5 * H);
    expect(u.last_24h).toMatchObject({ count: 1, uptime_pct: 100 });
    expect(u.last_30d).toMatchObject({ count: 1 });
    expect((await uptimeWindows(t.store, 'm', T0 + 40 * 24 * H)).last_30d.count).toBe(0);
  });

  it('retention deletes old raw results (only once rolled up), old rollups and finished jobs', async () => {
    await store([
      { at: T0, up: true, ms: 1, region: 'eu' },
      { at: T0 + 10 * 24 * H, up: true, ms: 1, region: 'eu' },
    ]);
    const worker = new RollupWorker({ store: t.store, leader: new SingleNodeLeader(), now: () => T0 + 11 * 24 * H, retentionDays: { results: 5, rollup1m: 5, rollup1h: 90, rollup1d: 730, jobs: 1 } });
    // not rolled up yet: raw rows are kept
    expect(await worker.retentionTick()).toEqual({ results: 0, rollups: 0, jobs: 2 });
    await worker.tick();
    const r = await worker.retentionTick();
    expect(r).toEqual({ results: 1, rollups: 1, jobs: 0 });
    expect(await t.store.listResults({ monitorId: 'm', limit: 10 })).toHaveLength(1);
    expect(await t.store.queryRollups({ monitorId: 'm', resolution: '1h', from: 0, to: T0 + 30 * 24 * H })).toHaveLength(2);
  });

  it('picks a resolution from the range', () => {
    expect(pickResolution(0, 6 * H)).toBe('1m');
    expect(pickResolution(0, 6 * H + 1)).toBe('1h');
    expect(pickResolution(0, 14 * 24 * H)).toBe('1h');
    expect(pickResolution(0, 15 * 24 * H)).toBe('1d');
  });
});
