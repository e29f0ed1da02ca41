import type { PgMigration } from '../db.js';

/** Component "dashboard": an index for the overview's recent failures (on the partitioned results_raw). */
export const PG_DASHBOARD_MIGRATIONS: readonly PgMigration[] = [
  { version: 1, name: 'results_raw_failures', sql: "CREATE INDEX IF NOT EXISTS results_raw_failures ON results_raw (event_at) WHERE status <> 'up';" },
  // The 24 h figures and the slowest monitors read a time range of every monitor's 1h buckets.
  { version: 2, name: 'results_agg_1h_bucket', sql: 'CREATE INDEX IF NOT EXISTS results_agg_1h_bucket ON results_agg_1h (bucket_start) INCLUDE (monitor_id, count, up_count, p95_ms, p99_ms);' },
];
