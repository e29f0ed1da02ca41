import type { PgMigration } from '../db.js';

/** Component "dashboard": an index for the overview's recent failures (on the partitioned results_raw). */
export const PG_DASHBOARD_MIGRATIONS: readonly PgMigration[] = [
  { version: 1, name: 'results_raw_failures', sql: "CREATE INDEX IF NOT EXISTS results_raw_failures ON results_raw (event_at) WHERE status <> 'up';" },
];
