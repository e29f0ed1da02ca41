import type { PgMigration } from '../db.js';

/** Component "dashboard": an index for the overview's recent failures (on the partitioned results_raw). */
export const PG_DASHBOARD_MIGRATIONS: readonly PgMigration[] = [
  { version: 1, name: 'results_raw_failures', sql: "CREATE INDEX IF NOT EXISTS results_raw_failures ON results_raw (event_at) WHERE status <> 'up';" },
  // The 24 h figures and the slowest monitors read a time range of every monitor's 1h buckets.
  { version: 2, name: 'results_agg_1h_bucket', sql: 'CREATE INDEX IF NOT EXISTS results_agg_1h_bucket ON results_agg_1h (bucket_start) INCLUDE (monitor_id, count, up_count, p95_ms, p99_ms);' },
  // Each monitor's latest result, kept by a trigger on results_raw (row triggers on a partitioned table apply to
  // every partition), so the states of 10 000 monitors are one join instead of one index seek per monitor.
  {
    version: 3,
    name: 'monitor_latest',
    sql: `CREATE TABLE monitor_latest (
  monitor_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  event_at BIGINT NOT NULL,
  total_ms DOUBLE PRECISION
);
INSERT INTO monitor_latest (monitor_id, status, event_at, total_ms)
  SELECT DISTINCT ON (monitor_id) monitor_id, status, event_at, total_ms FROM results_raw ORDER BY monitor_id, event_at DESC;
CREATE FUNCTION results_raw_latest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO monitor_latest (monitor_id, status, event_at, total_ms) VALUES (NEW.monitor_id, NEW.status, NEW.event_at, NEW.total_ms)
  ON CONFLICT (monitor_id) DO UPDATE SET status = excluded.status, event_at = excluded.event_at, total_ms = excluded.total_ms
  WHERE excluded.event_at >= monitor_latest.event_at;
  RETURN NULL;
END $$;
CREATE TRIGGER results_raw_latest AFTER INSERT ON results_raw FOR EACH ROW EXECUTE FUNCTION results_raw_latest();`,
  },
  // Runs and up counts of every monitor per hour, kept by a trigger on the 1h rollups, so the overview's 24 h
  // figures read 24 rows instead of 24 × monitors.
  {
    version: 4,
    name: 'rollup_hour_totals',
    sql: `CREATE TABLE rollup_hour_totals (
  bucket_start BIGINT PRIMARY KEY,
  count BIGINT NOT NULL,
  up_count BIGINT NOT NULL
);
INSERT INTO rollup_hour_totals (bucket_start, count, up_count)
  SELECT bucket_start, SUM(count), SUM(up_count) FROM results_agg_1h GROUP BY bucket_start;
CREATE FUNCTION results_agg_1h_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE rollup_hour_totals SET count = count - OLD.count, up_count = up_count - OLD.up_count WHERE bucket_start = OLD.bucket_start;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO rollup_hour_totals (bucket_start, count, up_count) VALUES (NEW.bucket_start, NEW.count, NEW.up_count)
    ON CONFLICT (bucket_start) DO UPDATE SET count = rollup_hour_totals.count + excluded.count, up_count = rollup_hour_totals.up_count + excluded.up_count;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER results_agg_1h_totals AFTER INSERT OR UPDATE OR DELETE ON results_agg_1h FOR EACH ROW EXECUTE FUNCTION results_agg_1h_totals();`,
  },
  // The slowest monitors: the top p95 rows of each hour read in index order (dashboard-slowest.ts).
  { version: 5, name: 'results_agg_1h_p95', sql: 'CREATE INDEX IF NOT EXISTS results_agg_1h_p95 ON results_agg_1h (bucket_start, p95_ms DESC) WHERE p95_ms IS NOT NULL;' },
  // monitor_latest kept by one statement per ingest batch instead of one upsert per row (a row trigger cost about
  // half of the insert): a statement trigger reads the batch from its transition table and upserts each monitor's
  // newest row once, in monitor order, so concurrent batches that share monitors take the row locks in the same
  // order. A monitor whose committed latest row is already newer is left out before the upsert (ON CONFLICT DO
  // UPDATE locks the row even when its WHERE fails, and those locks queued concurrent batches behind each other).
  // On an equal event_at within a batch (two regions at the same instant) a failing result wins.
  {
    version: 6,
    name: 'monitor_latest_statement_trigger',
    sql: `DROP TRIGGER results_raw_latest ON results_raw;
CREATE OR REPLACE FUNCTION results_raw_latest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO monitor_latest (monitor_id, status, event_at, total_ms)
  SELECT * FROM (
    SELECT DISTINCT ON (monitor_id COLLATE "C") monitor_id, status, event_at, total_ms FROM new_rows
     ORDER BY monitor_id COLLATE "C", event_at DESC, (status = 'up')
  ) n
  WHERE NOT EXISTS (SELECT 1 FROM monitor_latest l WHERE l.monitor_id = n.monitor_id AND l.event_at > n.event_at)
  ORDER BY monitor_id COLLATE "C"
  ON CONFLICT (monitor_id) DO UPDATE SET status = excluded.status, event_at = excluded.event_at, total_ms = excluded.total_ms
  WHERE excluded.event_at >= monitor_latest.event_at;
  RETURN NULL;
END $$;
CREATE TRIGGER results_raw_latest AFTER INSERT ON results_raw REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION results_raw_latest();`,
  },
];
