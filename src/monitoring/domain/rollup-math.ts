/**
 * Pure rollup arithmetic: folding results into buckets, merging buckets, and summarising a bucket.
 * A bucket keeps counts, latency sum/min/max and a mergeable LatencySketch, so any range is the merge of its
 * buckets and percentiles always come from a merged sketch — never from averaging percentiles.
 */
import { LatencySketch } from './sketch.js';

/** The bucket sizes results are rolled up into. */
export type Resolution = '1m' | '1h' | '1d';
export const RESOLUTION_MS: Record<Resolution, number> = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 };
export const RESOLUTIONS: readonly Resolution[] = ['1m', '1h', '1d'];

/** One stored bucket of one monitor in one region (what every store keeps per resolution). */
export interface RollupRecord {
  monitor_id: string;
  region: string;
  bucket_start: number;
  /** up + down results (expired runs are not counted). */
  count: number;
  up_count: number;
  error_count: number;
  /** Latency statistics over successful checks' total_ms. */
  lat_count: number;
  lat_sum: number;
  lat_min: number | null;
  lat_max: number | null;
  /** Encoded LatencySketch of the latencies (mergeable). */
  sketch: Buffer;
}

/** A bucket being built in memory: a stored rollup record with its sketch decoded. */
export type RollupAcc = Omit<RollupRecord, 'sketch'> & { sketch: LatencySketch };

export function emptyAcc(monitorId: string, region: string, bucketStart: number): RollupAcc {
  return {
    monitor_id: monitorId,
    region,
    bucket_start: bucketStart,
    count: 0,
    up_count: 0,
    error_count: 0,
    lat_count: 0,
    lat_sum: 0,
    lat_min: null,
    lat_max: null,
    sketch: new LatencySketch(),
  };
}

/**
 * Adds one result. Only up/down results count (an 'expired' run says nothing about the target).
 * Latency statistics cover successful checks only: a failure's duration is a timeout or an error, not a latency.
 */
export function addResult(acc: RollupAcc, status: string, totalMs: number | null): void {
  if (status !== 'up' && status !== 'down') return;
  acc.count++;
  if (status === 'up') acc.up_count++;
  else acc.error_count++;
  if (status === 'up' && totalMs !== null && Number.isFinite(totalMs) && totalMs >= 0) {
    acc.lat_count++;
    acc.lat_sum += totalMs;
    acc.lat_min = acc.lat_min === null ? totalMs : Math.min(acc.lat_min, totalMs);
    acc.lat_max = acc.lat_max === null ? totalMs : Math.max(acc.lat_max, totalMs);
    acc.sketch.add(totalMs);
  }
}

const minOf = (x: number | null, y: number | null): number | null => (x === null ? y : y === null ? x : Math.min(x, y));
const maxOf = (x: number | null, y: number | null): number | null => (x === null ? y : y === null ? x : Math.max(x, y));

/** Merges a stored bucket into an accumulator (in place). */
export function mergeInto(acc: RollupAcc, r: RollupRecord | RollupAcc): RollupAcc {
  acc.count += r.count;
  acc.up_count += r.up_count;
  acc.error_count += r.error_count;
  acc.lat_count += r.lat_count;
  acc.lat_sum += r.lat_sum;
  acc.lat_min = minOf(acc.lat_min, r.lat_min);
  acc.lat_max = maxOf(acc.lat_max, r.lat_max);
  acc.sketch.merge(r.sketch instanceof LatencySketch ? r.sketch : LatencySketch.decode(r.sketch));
  return acc;
}

export function toRecord(acc: RollupAcc): RollupRecord {
  return { ...acc, sketch: acc.sketch.encode() };
}

export interface RollupSummary {
  bucket_start: number;
  count: number;
  up_count: number;
  error_count: number;
  /** error_count / count (0 when empty). */
  error_rate: number;
  /** 100 × up_count / count (100 when empty: nothing observed, nothing failed). */
  uptime_pct: number;
  min_ms: number | null;
  max_ms: number | null;
  avg_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export function summarize(acc: RollupAcc): RollupSummary {
  return {
    bucket_start: acc.bucket_start,
    count: acc.count,
    up_count: acc.up_count,
    error_count: acc.error_count,
    error_rate: acc.count === 0 ? 0 : acc.error_count / acc.count,
    uptime_pct: acc.count === 0 ? 100 : (100 * acc.up_count) / acc.count,
    min_ms: acc.lat_min,
    max_ms: acc.lat_max,
    avg_ms: acc.lat_count === 0 ? null : acc.lat_sum / acc.lat_count,
    p50_ms: acc.sketch.quantile(0.5),
    p95_ms: acc.sketch.quantile(0.95),
    p99_ms: acc.sketch.quantile(0.99),
  };
}

/**
 * Merges stored buckets into one point per bucket_start (regions merged when several are present) and a total
 * over the whole range.
 */
export function mergeSeries(rows: readonly RollupRecord[], monitorId: string, region: string): { points: RollupSummary[]; total: RollupSummary } {
  const byBucket = new Map<number, RollupAcc>();
  const total = emptyAcc(monitorId, region, rows[0]?.bucket_start ?? 0);
  for (const r of rows) {
    let acc = byBucket.get(r.bucket_start);
    if (!acc) {
      acc = emptyAcc(monitorId, region, r.bucket_start);
      byBucket.set(r.bucket_start, acc);
    }
    const sk = LatencySketch.decode(r.sketch);
    const rec = { ...r, sketch: sk };
    mergeInto(acc, rec);
    mergeInto(total, rec);
  }
  const points = [...byBucket.values()].sort((a, b) => a.bucket_start - b.bucket_start).map(summarize);
  return { points, total: summarize(total) };
}
