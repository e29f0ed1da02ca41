import type { Migration } from '../db.js';

/** Component "dashboard": indexes for the overview's queries (its own version sequence). */
export const DASHBOARD_MIGRATIONS: readonly Migration[] = [
  // Recent failures: results not up, newest first.
  { version: 1, name: 'results_raw_failures', sql: "CREATE INDEX IF NOT EXISTS results_raw_failures ON results_raw (event_at) WHERE status <> 'up';" },
  // The 24 h figures and the slowest monitors read a time range of every monitor's 1h buckets: without this
  // covering index that is a scan of the whole table (its key starts with monitor_id).
  { version: 2, name: 'results_agg_1h_bucket', sql: 'CREATE INDEX IF NOT EXISTS results_agg_1h_bucket ON results_agg_1h (bucket_start, count, up_count, p95_ms, p99_ms);' },
];
