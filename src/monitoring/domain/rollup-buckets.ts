/**
 * Rollup bucketing: which bucket of each resolution a result falls in, grouping a batch of results into
 * per-(monitor, region, bucket) accumulators, and folding a fresh group into the bucket already stored.
 * Pure: a store reads the pending results and the existing buckets and writes what this returns.
 */
import { addResult, emptyAcc, mergeInto, toRecord, RESOLUTION_MS, type Resolution, type RollupAcc, type RollupRecord } from './rollup-math.js';

/** What bucketing needs of one raw result. */
export interface BucketableResult {
  monitor_id: string;
  region: string;
  event_at: number;
  status: string;
  total_ms: number | null;
}

/** A bucket as stored, with the percentiles kept beside the sketch (for readers that do not decode it). */
export interface StoredBucket extends RollupRecord {
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

/** Start (epoch ms) of the `res` bucket that contains `eventAt`. */
export function bucketStart(eventAt: number, res: Resolution): number {
  const size = RESOLUTION_MS[res];
  return Math.floor(eventAt / size) * size;
}

/**
 * One accumulator per (monitor, region, bucket) of resolution `res`, in first-seen order. Results other than
 * up/down (an expired run) are left out: they say nothing about the target.
 */
export function groupIntoBuckets(rows: readonly BucketableResult[], res: Resolution): RollupAcc[] {
  const groups = new Map<string, RollupAcc>();
  for (const r of rows) {
    if (r.status !== 'up' && r.status !== 'down') continue;
    const bucket = bucketStart(r.event_at, res);
    const key = `${r.monitor_id}\u0000${r.region}\u0000${bucket}`;
    let g = groups.get(key);
    if (!g) {
      g = emptyAcc(r.monitor_id, r.region, bucket);
      groups.set(key, g);
    }
    addResult(g, r.status, r.total_ms);
  }
  return [...groups.values()];
}

/** The bucket to store: a fresh group merged with the stored bucket of the same key (when there is one). */
export function foldBucket(fresh: RollupAcc, existing: RollupRecord | null | undefined): StoredBucket {
  if (existing) mergeInto(fresh, existing);
  return {
    ...toRecord(fresh),
    p50_ms: fresh.sketch.quantile(0.5),
    p95_ms: fresh.sketch.quantile(0.95),
    p99_ms: fresh.sketch.quantile(0.99),
  };
}
