import type { PgMigration } from '../db.js';

function rollupTable(res: string): string {
  return `CREATE TABLE results_agg_${res} (
  monitor_id TEXT NOT NULL,
  region TEXT NOT NULL,
  bucket_start BIGINT NOT NULL,
  count INTEGER NOT NULL,
  up_count INTEGER NOT NULL,
  error_count INTEGER NOT NULL,
  lat_count INTEGER NOT NULL,
  lat_sum DOUBLE PRECISION NOT NULL,
  lat_min DOUBLE PRECISION,
  lat_max DOUBLE PRECISION,
  p50_ms DOUBLE PRECISION,
  p95_ms DOUBLE PRECISION,
  p99_ms DOUBLE PRECISION,
  sketch BYTEA NOT NULL,
  PRIMARY KEY (monitor_id, region, bucket_start)
);`;
}

/**
 * Schema of the monitoring control plane on PostgreSQL (component "monitoring"). The same tables as SQLite
 * (src/store/sqlite/migrations/monitoring.ts) with these differences:
 * - results_raw is partitioned by day on event_at (declarative RANGE partitioning); the store creates the
 *   partitions (ahead, by the leader, and on demand for a late result) and retention drops whole partitions;
 * - rollup_queue replaces SQLite's seq cursor: a sequence number is not commit-ordered across concurrent
 *   ingest transactions of several replicas, so a cursor could skip a late commit. Each stored result puts its
 *   bucketing fields in the queue in the same transaction; the rollup pass deletes what it folds.
 * - JSON fields stay TEXT, as in SQLite, so a record round-trips byte for byte.
 */
export const PG_MONITORING_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'monitors, jobs, workers, results_raw (partitioned by day), rollup_queue, rollups, audit',
    sql: `
CREATE TABLE monitors (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  owner TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL DEFAULT 'http',
  url TEXT NOT NULL,
  method TEXT NOT NULL DEFAULT 'GET',
  headers TEXT NOT NULL DEFAULT '{}',
  body TEXT NOT NULL DEFAULT '',
  interval_ms BIGINT NOT NULL CHECK (interval_ms > 0),
  timeout_ms BIGINT NOT NULL CHECK (timeout_ms > 0),
  assertions TEXT NOT NULL DEFAULT '[]',
  assertions_compiled TEXT NOT NULL DEFAULT '[]',
  options TEXT NOT NULL DEFAULT '{}',
  regions TEXT NOT NULL DEFAULT '["global"]',
  enabled BOOLEAN NOT NULL DEFAULT true,
  jitter_seed INTEGER NOT NULL,
  last_scheduled_at BIGINT,
  next_due_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE INDEX monitors_due ON monitors (next_due_at) WHERE enabled AND deleted_at IS NULL;

CREATE TABLE jobs (
  run_id TEXT PRIMARY KEY,
  monitor_id TEXT NOT NULL REFERENCES monitors (id),
  region TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ready', 'leased', 'done')),
  scheduled_at BIGINT NOT NULL,
  lease_expires_at BIGINT,
  worker_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  outcome TEXT CHECK (outcome IN ('result', 'expired', 'missed', 'cancelled')),
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  deleted_at BIGINT
);
CREATE UNIQUE INDEX jobs_slot ON jobs (monitor_id, region, scheduled_at);
CREATE INDEX jobs_ready ON jobs (region, scheduled_at) WHERE status = 'ready';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE status = 'leased';
CREATE INDEX jobs_done ON jobs (finished_at) WHERE status = 'done';

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL DEFAULT '',
  region TEXT NOT NULL,
  version TEXT NOT NULL DEFAULT '',
  capabilities TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'revoked')),
  enrolled_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  certificate_expires_at BIGINT,
  revoked_at BIGINT,
  revoked_reason TEXT
);

CREATE TABLE results_raw (
  run_id TEXT NOT NULL,
  event_at BIGINT NOT NULL,
  monitor_id TEXT NOT NULL,
  region TEXT NOT NULL,
  worker_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('up', 'down', 'expired')),
  http_code INTEGER,
  dns_ms DOUBLE PRECISION,
  connect_ms DOUBLE PRECISION,
  tls_ms DOUBLE PRECISION,
  ttfb_ms DOUBLE PRECISION,
  download_ms DOUBLE PRECISION,
  total_ms DOUBLE PRECISION,
  size_bytes BIGINT,
  error TEXT,
  error_class TEXT,
  assertions TEXT,
  details TEXT,
  started_at BIGINT,
  finished_at BIGINT,
  ingested_at BIGINT NOT NULL,
  PRIMARY KEY (run_id, event_at)
) PARTITION BY RANGE (event_at);
CREATE INDEX results_raw_monitor ON results_raw (monitor_id, event_at);

CREATE TABLE rollup_queue (
  id BIGSERIAL PRIMARY KEY,
  monitor_id TEXT NOT NULL,
  region TEXT NOT NULL,
  event_at BIGINT NOT NULL,
  status TEXT NOT NULL,
  total_ms DOUBLE PRECISION
);
CREATE INDEX rollup_queue_event ON rollup_queue (event_at);

${['1m', '1h', '1d'].map(rollupTable).join('\n')}

CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  before TEXT,
  after TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity_id, id);
`,
  },
  // Counts of many monitors over a range (status pages, uptime of a page of monitors) read by index only: the
  // primary key leads with region after monitor_id, so a range of bucket_start is not one contiguous scan there.
  {
    version: 2,
    name: 'rollup count indexes',
    sql: `
CREATE INDEX results_agg_1d_counts ON results_agg_1d (monitor_id, bucket_start) INCLUDE (count, up_count);
CREATE INDEX results_agg_1h_counts ON results_agg_1h (monitor_id, bucket_start) INCLUDE (count, up_count);
`,
  },
];
