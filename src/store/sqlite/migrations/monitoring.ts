import type { Migration } from '../db.js';

function rollupTable(res: string): string {
  return `CREATE TABLE results_agg_${res} (
  monitor_id TEXT NOT NULL,
  region TEXT NOT NULL,
  bucket_start INTEGER NOT NULL,
  count INTEGER NOT NULL,
  up_count INTEGER NOT NULL,
  error_count INTEGER NOT NULL,
  lat_count INTEGER NOT NULL,
  lat_sum REAL NOT NULL,
  lat_min REAL,
  lat_max REAL,
  p50_ms REAL,
  p95_ms REAL,
  p99_ms REAL,
  sketch BLOB NOT NULL,
  PRIMARY KEY (monitor_id, region, bucket_start)
) WITHOUT ROWID;`;
}

/**
 * The monitors table. Version 1 limited `type` to the four built-in check types; since version 2 the type is a
 * plain name, validated by the check registry (src/monitoring/checks/) where a monitor enters the system.
 */
function monitorsTable(name: string, opts: { typeCheck: boolean }): string {
  const typeCheck = opts.typeCheck ? " CHECK (type IN ('http', 'tcp', 'dns', 'tls'))" : '';
  return `CREATE TABLE ${name} (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  owner TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL DEFAULT 'http'${typeCheck},
  url TEXT NOT NULL,
  method TEXT NOT NULL DEFAULT 'GET',
  headers TEXT NOT NULL DEFAULT '{}',
  body TEXT NOT NULL DEFAULT '',
  interval_ms INTEGER NOT NULL CHECK (interval_ms > 0),
  timeout_ms INTEGER NOT NULL CHECK (timeout_ms > 0),
  assertions TEXT NOT NULL DEFAULT '[]',
  assertions_compiled TEXT NOT NULL DEFAULT '[]',
  options TEXT NOT NULL DEFAULT '{}',
  regions TEXT NOT NULL DEFAULT '["global"]',
  enabled INTEGER NOT NULL DEFAULT 1,
  jitter_seed INTEGER NOT NULL,
  last_scheduled_at INTEGER,
  next_due_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
);`;
}

const MONITOR_COLUMNS =
  'id, name, owner, type, url, method, headers, body, interval_ms, timeout_ms, assertions, assertions_compiled, options, regions, enabled, jitter_seed, last_scheduled_at, next_due_at, created_at, updated_at, deleted_at';
const MONITORS_DUE_INDEX = 'CREATE INDEX monitors_due ON monitors (next_due_at) WHERE enabled = 1 AND deleted_at IS NULL;';

/** Schema of the monitoring control plane (component "monitoring"). Times are Unix epoch ms. */
export const MONITORING_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'monitors, jobs, workers, results_raw, rollups, audit',
    sql: `
${monitorsTable('monitors', { typeCheck: true })}
${MONITORS_DUE_INDEX}

CREATE TABLE jobs (
  run_id TEXT PRIMARY KEY,
  monitor_id TEXT NOT NULL REFERENCES monitors (id),
  region TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ready', 'leased', 'done')),
  scheduled_at INTEGER NOT NULL,
  lease_expires_at INTEGER,
  worker_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  outcome TEXT CHECK (outcome IN ('result', 'expired', 'missed', 'cancelled')),
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  deleted_at INTEGER
) WITHOUT ROWID;
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
  enrolled_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  certificate_expires_at INTEGER,
  revoked_at INTEGER,
  revoked_reason TEXT
);

CREATE TABLE results_raw (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  event_at INTEGER NOT NULL,
  monitor_id TEXT NOT NULL,
  region TEXT NOT NULL,
  worker_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('up', 'down', 'expired')),
  http_code INTEGER,
  dns_ms REAL,
  connect_ms REAL,
  tls_ms REAL,
  ttfb_ms REAL,
  download_ms REAL,
  total_ms REAL,
  size_bytes INTEGER,
  error TEXT,
  error_class TEXT,
  assertions TEXT,
  details TEXT,
  started_at INTEGER,
  finished_at INTEGER,
  ingested_at INTEGER NOT NULL,
  UNIQUE (run_id, event_at)
);
CREATE INDEX results_raw_monitor ON results_raw (monitor_id, event_at);

${['1m', '1h', '1d'].map(rollupTable).join('\n')}
CREATE TABLE monitoring_state (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO monitoring_state (key, value) VALUES ('rollup_seq', 0);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
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
  {
    version: 2,
    name: 'monitors: type is any check type name (no CHECK list)',
    rebuildsTables: true,
    sql: `
${monitorsTable('monitors_v2', { typeCheck: false })}
INSERT INTO monitors_v2 (${MONITOR_COLUMNS}) SELECT ${MONITOR_COLUMNS} FROM monitors;
DROP TABLE monitors;
ALTER TABLE monitors_v2 RENAME TO monitors;
${MONITORS_DUE_INDEX}
`,
  },
];
