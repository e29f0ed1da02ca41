import type { LbStore } from '../store/lb.js';

export interface RetentionOptions {
  store: Pick<LbStore, 'deleteStatsBefore'>;
  now: () => number;
  retentionMs: number;
  /** Rows deleted per statement; small so the single SQLite writer is never held for long. */
  batchSize?: number;
  /** Yields between batches so requests are served in between (default: setImmediate). */
  yieldFn?: () => Promise<void>;
}

const defaultYield = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Deletes stats rows older than the retention period, in small batches, and returns how many were deleted.
 * Only the `stats` table is touched: clients and sticky assignments are kept whatever their age.
 */
export async function pruneStats(opts: RetentionOptions): Promise<number> {
  const batch = opts.batchSize ?? 500;
  const cutoff = opts.now() - opts.retentionMs;
  const yieldFn = opts.yieldFn ?? defaultYield;
  let total = 0;
  for (;;) {
    const n = await opts.store.deleteStatsBefore(cutoff, batch);
    total += n;
    if (n < batch) return total;
    await yieldFn();
  }
}
