import type { Migration } from '../db.js';

/** Component "dashboard": an index for the overview's recent failures (results not up, newest first). */
export const DASHBOARD_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'results_raw_failures', sql: "CREATE INDEX IF NOT EXISTS results_raw_failures ON results_raw (event_at) WHERE status <> 'up';" },
];
