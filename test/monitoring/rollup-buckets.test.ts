import { describe, expect, it } from 'vitest';
import { bucketStart, foldBucket, groupIntoBuckets } from '../../src/monitoring/domain/rollup-buckets.js';
import { toRecord } from '../../src/monitoring/domain/rollup-math.js';
import { LatencySketch } from '../../src/monitoring/domain/sketch.js';
import { nullResult } from '../../src/monitoring/domain/result.js';

const M = 60_000;
const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

const res = (over: Partial<{ monitor_id: string; region: string; event_at: number; status: string; total_ms: number | null }>) => ({
  monitor_id: 'm',
  region: 'eu',
  event_at: T0,
  status: 'up',
  total_ms: 10,
  ...over,
});

describe('rollup bucketing', () => {
  it('bucketStart floors to the resolution', () => {
    expect(bucketStart(T0 + 59_999, '1m')).toBe(T0);
    expect(bucketStart(T0 + M, '1m')).toBe(T0 + M);
    expect(bucketStart(T0 + 59 * M, '1h')).toBe(T0);
    expect(bucketStart(T0 + 13 * H, '1d')).toBe(Date.UTC(2026, 0, 1));
    expect(bucketStart(T0 + 14 * H, '1d')).toBe(Date.UTC(2026, 0, 2));
  });

  it('groups by monitor, region and bucket, in first-seen order, leaving expired runs out', () => {
    const rows = [
      res({ event_at: T0 + 1_000, total_ms: 10 }),
      res({ event_at: T0 + 2_000, total_ms: 30 }),
      res({ event_at: T0 + M + 1, status: 'down', total_ms: 5_000 }),
      res({ region: 'us', event_at: T0 + 3_000 }),
      res({ monitor_id: 'n', event_at: T0 + 4_000, status: 'expired', total_ms: null }),
    ];
    const m1 = groupIntoBuckets(rows, '1m');
    expect(m1.map((g) => [g.monitor_id, g.region, g.bucket_start, g.count])).toEqual([
      ['m', 'eu', T0, 2],
      ['m', 'eu', T0 + M, 1],
      ['m', 'us', T0, 1],
    ]);
    expect(m1[0]).toMatchObject({ up_count: 2, error_count: 0, lat_count: 2, lat_sum: 40, lat_min: 10, lat_max: 30 });
    // A failure counts as an error but its duration is not a latency.
    expect(m1[1]).toMatchObject({ up_count: 0, error_count: 1, lat_count: 0, lat_min: null });
    const h1 = groupIntoBuckets(rows, '1h');
    expect(h1.map((g) => [g.region, g.count, g.error_count])).toEqual([
      ['eu', 3, 1],
      ['us', 1, 0],
    ]);
    expect(groupIntoBuckets([], '1d')).toEqual([]);
  });

  it('foldBucket merges the stored bucket, sketch included, and keeps the percentiles beside it', () => {
    const [stored] = groupIntoBuckets([res({ total_ms: 100 }), res({ total_ms: 200 })], '1m');
    const [fresh] = groupIntoBuckets([res({ total_ms: 300 }), res({ status: 'down', total_ms: null })], '1m');
    const out = foldBucket(fresh!, toRecord(stored!));
    expect(out).toMatchObject({ count: 4, up_count: 3, error_count: 1, lat_count: 3, lat_sum: 600, lat_min: 100, lat_max: 300 });
    const sk = LatencySketch.decode(out.sketch);
    expect(sk.count).toBe(3);
    expect(out.p50_ms).toBe(sk.quantile(0.5));
    expect(out.p99_ms).toBeCloseTo(300, -1);
    expect(Math.abs(out.p50_ms! - 200)).toBeLessThanOrEqual(2);
  });

  it('foldBucket without a stored bucket is the fresh group; an empty group has no percentiles', () => {
    const [g] = groupIntoBuckets([res({ status: 'down', total_ms: 1 })], '1h');
    const out = foldBucket(g!, null);
    expect(out).toMatchObject({ count: 1, error_count: 1, p50_ms: null, p95_ms: null, p99_ms: null });
  });
});

describe('nullResult', () => {
  it('is a down result of the run with nothing measured', () => {
    const r = nullResult('run1', T0);
    expect(r).toMatchObject({ run_id: 'run1', event_at: T0, status: 'down' });
    const rest = Object.entries(r).filter(([k]) => !['run_id', 'event_at', 'status'].includes(k));
    expect(rest.length).toBeGreaterThan(10);
    expect(rest.every(([, v]) => v === null)).toBe(true);
  });
});
