import type { Migration } from '../db.js';

/** Component "dashboard": indexes for the overview's queries (its own version sequence). */
export const DASHBOARD_MIGRATIONS: readonly Migration[] = [
  // Recent failures: results not up, newest first.
  { version: 1, name: 'results_raw_failures', sql: "CREATE INDEX IF NOT EXISTS results_raw_failures ON results_raw (event_at) WHERE status <> 'up';" },
  // The 24 h figures and the slowest monitors read a time range of every monitor's 1h buckets: without this
  // covering index that is a scan of the whole table (its key starts with monitor_id).
  { version: 2, name: 'results_agg_1h_bucket', sql: 'CREATE INDEX IF NOT EXISTS results_agg_1h_bucket ON results_agg_1h (bucket_start, count, up_count, p95_ms, p99_ms);' },
  // Each monitor's latest result, kept by a trigger on results_raw, so the states of 10 000 monitors are one
  // join instead of one index seek per monitor. Retention deleting raw results leaves it as it is.
  {
    version: 3,
    name: 'monitor_latest',
    sql: `CREATE TABLE monitor_latest (
  monitor_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  event_at INTEGER NOT NULL,
  total_ms REAL
) WITHOUT ROWID;
INSERT INTO monitor_latest (monitor_id, status, event_at, total_ms)
  SELECT r.monitor_id, r.status, r.event_at, r.total_ms FROM results_raw r
  WHERE r.seq = (SELECT r2.seq FROM results_raw r2 WHERE r2.monitor_id = r.monitor_id ORDER BY r2.event_at DESC, r2.seq DESC LIMIT 1);
CREATE TRIGGER results_raw_latest AFTER INSERT ON results_raw BEGIN
  INSERT INTO monitor_latest (monitor_id, status, event_at, total_ms) VALUES (NEW.monitor_id, NEW.status, NEW.event_at, NEW.total_ms)
  ON CONFLICT (monitor_id) DO UPDATE SET status = excluded.status, event_at = excluded.event_at, total_ms = excluded.total_ms
  WHERE excluded.event_at >= monitor_latest.event_at;
END;`,
  },
];
