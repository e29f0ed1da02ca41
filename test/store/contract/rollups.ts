/** Contract scenarios of rollups (1m/1h/1d buckets, mergeable percentiles) and of retention of monitoring data. */
import { describe, expect, it } from 'vitest';
import { mergeSeries } from '../../../src/monitoring/domain/rollup-math.js';
import { LatencySketch } from '../../../src/monitoring/domain/sketch.js';
import type { MonitoringStore } from '../../../src/store/monitoring.js';
import type { ContractContext } from './index.js';
import { result, seedJobs } from './fixtures.js';

const M = 60_000;
const H = 3_600_000;
const D = 86_400_000;
/** A day boundary, so the 1d bucket of the first results starts here. */
const T0 = 1_699_920_000_000;
const LEASE = 45_000;

/** Stores one result per `at` (up with total_ms = latency, or down when latency is null) for monitor `m` in `region`. */
async function ingestAt(s: MonitoringStore, monitorId: string, region: string, points: Array<{ at: number; ms: number | null }>): Promise<void> {
  await seedJobs(s, { monitorId, runs: points.map((p) => p.at), now: T0, spec: { regions: [region] } });
  const jobs = await s.leaseJobs({ workerId: 'w', region, count: points.length, now: T0 + 40 * D, leadMs: 0, leaseMs: LEASE });
  const byAt = new Map(points.map((p) => [p.at, p.ms]));
  const out = await s.ingestResults(
    jobs.map((j) => {
      const ms = byAt.get(j.scheduled_at)!;
      return { workerId: 'w', result: result(j.run_id, j.scheduled_at, ms === null ? { status: 'down', total_ms: 2_000, error: 'boom', error_class: 'connect' } : { total_ms: ms }) };
    }),
    T0 + 40 * D,
  );
  expect(out.every((o) => o === 'stored')).toBe(true);
}

export function rollupScenarios(ctx: ContractContext): void {
  const s = () => ctx.stores().monitoring;

  describe('rollups', () => {
    it('folds results into 1m, 1h and 1d buckets with counts and latency statistics over successes only', async () => {
      await ingestAt(s(), 'm', 'eu', [
        { at: T0 + 1_000, ms: 10 },
        { at: T0 + 2_000, ms: 30 },
        { at: T0 + M + 5, ms: null },
        { at: T0 + H + 5, ms: 50 },
        { at: T0 + D + 5, ms: 70 },
      ]);
      expect(await s().rollupPending(1_000)).toBe(5);
      expect(await s().rollupPending(1_000)).toBe(0);
      const m1 = await s().queryRollups({ monitorId: 'm', resolution: '1m', from: T0, to: T0 + 2 * D });
      expect(m1.map((r) => [r.bucket_start, r.count, r.up_count, r.error_count, r.lat_count, r.lat_sum, r.lat_min, r.lat_max])).toEqual([
        [T0, 2, 2, 0, 2, 40, 10, 30],
        [T0 + M, 1, 0, 1, 0, 0, null, null],
        [T0 + H, 1, 1, 0, 1, 50, 50, 50],
        [T0 + D, 1, 1, 0, 1, 70, 70, 70],
      ]);
      const h1 = await s().queryRollups({ monitorId: 'm', resolution: '1h', from: T0, to: T0 + 2 * D });
      expect(h1.map((r) => [r.bucket_start, r.count, r.error_count])).toEqual([
        [T0, 3, 1],
        [T0 + H, 1, 0],
        [T0 + D, 1, 0],
      ]);
      const d1 = await s().queryRollups({ monitorId: 'm', resolution: '1d', from: T0, to: T0 + 2 * D });
      expect(d1.map((r) => [r.bucket_start, r.count, r.up_count, r.lat_min, r.lat_max])).toEqual([
        [T0, 4, 3, 10, 50],
        [T0 + D, 1, 1, 70, 70],
      ]);
      expect(LatencySketch.decode(d1[0]!.sketch).count).toBe(3);
      // the range is [from, to) over bucket_start
      expect((await s().queryRollups({ monitorId: 'm', resolution: '1m', from: T0 + M, to: T0 + H })).map((r) => r.bucket_start)).toEqual([T0 + M]);
      expect(await s().queryRollups({ monitorId: 'other', resolution: '1m', from: T0, to: T0 + 2 * D })).toEqual([]);
    });

    it('folding in several passes (maxRows) gives the same buckets as one pass, and expired runs are not counted', async () => {
      const points = Array.from({ length: 40 }, (_, i) => ({ at: T0 + i * 7_000, ms: i % 5 === 0 ? null : 5 + i }));
      await ingestAt(s(), 'm', 'eu', points);
      // one run whose lease expired for good: its expiry result is stored but is not an observation of the target
      const [x] = await seedJobs(s(), { monitorId: 'mx', runs: [T0 + 10], now: T0, spec: { regions: ['eu'] } });
      for (let a = 0; a < 3; a++) {
        await s().leaseJobs({ workerId: 'w', region: 'eu', count: 1, now: T0 + 41 * D + a * (LEASE + 1), leadMs: 0, leaseMs: LEASE });
        await s().reapExpired({ now: T0 + 41 * D + a * (LEASE + 1) + LEASE + 1, maxAttempts: 3, missedBefore: 0 });
      }
      expect((await s().getJob(x!))!.outcome).toBe('expired');
      let folded = 0;
      for (let n = await s().rollupPending(7); n > 0; n = await s().rollupPending(7)) folded += n;
      expect(folded).toBe(41);
      const rows = await s().queryRollups({ monitorId: 'm', resolution: '1h', from: T0, to: T0 + D });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ count: 40, up_count: 32, error_count: 8, lat_count: 32 });
      expect(await s().queryRollups({ monitorId: 'mx', resolution: '1m', from: 0, to: T0 + 50 * D })).toEqual([]);
    });

    it('percentiles are mergeable: the merge of 1m buckets equals the 1h bucket, across regions too', async () => {
      const eu = Array.from({ length: 120 }, (_, i) => ({ at: T0 + i * 20_000, ms: 1 + ((i * 37) % 500) }));
      const us = Array.from({ length: 60 }, (_, i) => ({ at: T0 + i * 45_000 + 3, ms: 600 + i }));
      await ingestAt(s(), 'm', 'eu', eu);
      await ingestAt(s(), 'n', 'us', us);
      await s().rollupPending(10_000);
      const minutes = [
        ...(await s().queryRollups({ monitorId: 'm', resolution: '1m', from: T0, to: T0 + H })),
        ...(await s().queryRollups({ monitorId: 'n', resolution: '1m', from: T0, to: T0 + H })),
      ];
      const hours = [
        ...(await s().queryRollups({ monitorId: 'm', resolution: '1h', from: T0, to: T0 + H })),
        ...(await s().queryRollups({ monitorId: 'n', resolution: '1h', from: T0, to: T0 + H })),
      ];
      const fromMinutes = mergeSeries(minutes, 'x', 'all').total;
      const fromHours = mergeSeries(hours, 'x', 'all').total;
      expect(fromMinutes).toEqual({ ...fromHours, bucket_start: fromMinutes.bucket_start });
      expect(fromHours.count).toBe(180);
      // and the merged p99 is within the sketch's accuracy of the true p99 of all latencies
      const all = [...eu, ...us].map((p) => p.ms!).sort((a, b) => a - b);
      const truth = all[Math.ceil(0.99 * all.length) - 1]!;
      expect(Math.abs(fromHours.p99_ms! - truth)).toBeLessThanOrEqual(0.011 * truth);
      const region = await s().queryRollups({ monitorId: 'm', resolution: '1h', from: T0, to: T0 + H, region: 'us' });
      expect(region).toEqual([]);
    });
  });

  describe('retention of monitoring data', () => {
    it('deletes only rolled-up raw results before the cutoff, old rollups per resolution and old finished jobs', async () => {
      await ingestAt(s(), 'm', 'eu', [
        { at: T0 + 1_000, ms: 10 },
        { at: T0 + 3 * D, ms: 20 },
      ]);
      const cut = { resultsBefore: T0 + D, rollup1mBefore: T0 + D, rollup1hBefore: T0 + D, rollup1dBefore: 0, jobsBefore: 0 };
      // nothing rolled up yet: raw results stay
      expect(await s().deleteExpired(cut)).toEqual({ results: 0, rollups: 0, jobs: 0 });
      expect(await s().listResults({ monitorId: 'm', limit: 10 })).toHaveLength(2);
      await s().rollupPending(100);
      expect(await s().deleteExpired(cut)).toEqual({ results: 1, rollups: 2, jobs: 0 });
      expect((await s().listResults({ monitorId: 'm', limit: 10 })).map((r) => r.event_at)).toEqual([T0 + 3 * D]);
      expect((await s().queryRollups({ monitorId: 'm', resolution: '1m', from: 0, to: T0 + 10 * D })).map((r) => r.bucket_start)).toEqual([T0 + 3 * D]);
      expect(await s().queryRollups({ monitorId: 'm', resolution: '1d', from: 0, to: T0 + 10 * D })).toHaveLength(2);
      // finished jobs go by finished_at (both were finished at ingest time, T0 + 40 d)
      expect(await s().deleteExpired({ ...cut, jobsBefore: T0 + 41 * D })).toEqual({ results: 0, rollups: 0, jobs: 2 });
      expect(await s().countJobs()).toEqual({ ready: 0, leased: 0, done: 0 });
    });
  });
}
