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
  // Runs and up counts of every monitor per hour, kept by triggers on the 1h rollups (which insert, update in
  // place and delete buckets), so the overview's 24 h figures read 24 rows instead of 24 × monitors.
  {
    version: 4,
    name: 'rollup_hour_totals',
    sql: `CREATE TABLE rollup_hour_totals (
  bucket_start INTEGER PRIMARY KEY,
  count INTEGER NOT NULL,
  up_count INTEGER NOT NULL
);
INSERT INTO rollup_hour_totals (bucket_start, count, up_count)
  SELECT bucket_start, SUM(count), SUM(up_count) FROM results_agg_1h GROUP BY bucket_start;
CREATE TRIGGER results_agg_1h_totals_insert AFTER INSERT ON results_agg_1h BEGIN
  INSERT INTO rollup_hour_totals (bucket_start, count, up_count) VALUES (NEW.bucket_start, NEW.count, NEW.up_count)
  ON CONFLICT (bucket_start) DO UPDATE SET count = count + excluded.count, up_count = up_count + excluded.up_count;
END;
CREATE TRIGGER results_agg_1h_totals_update AFTER UPDATE OF count, up_count ON results_agg_1h BEGIN
  UPDATE rollup_hour_totals SET count = count + NEW.count - OLD.count, up_count = up_count + NEW.up_count - OLD.up_count
  WHERE bucket_start = NEW.bucket_start;
END;
CREATE TRIGGER results_agg_1h_totals_delete AFTER DELETE ON results_agg_1h BEGIN
  UPDATE rollup_hour_totals SET count = count - OLD.count, up_count = up_count - OLD.up_count WHERE bucket_start = OLD.bucket_start;
END;`,
  },
  // The slowest monitors: the top p95 rows of each hour read in index order (dashboard-slowest.ts), instead
  // of aggregating every monitor's buckets of the range (20 000 rows with 10 000 monitors) to keep 10.
  { version: 5, name: 'results_agg_1h_p95', sql: 'CREATE INDEX IF NOT EXISTS results_agg_1h_p95 ON results_agg_1h (bucket_start, p95_ms) WHERE p95_ms IS NOT NULL;' },
];
