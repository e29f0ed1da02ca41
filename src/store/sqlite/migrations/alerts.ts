import type { Migration } from '../db.js';

/** Schema of alerts (component "alerts"): channels, per-monitor alert status, incidents + timeline, outbox. Times are epoch ms. */
export const ALERTS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'alert_channels, alert_rules, alert_monitor_state, incidents, incident_events, alert_outbox',
    sql: `
CREATE TABLE alert_channels (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  settings TEXT NOT NULL DEFAULT '{}',
  is_default INTEGER NOT NULL DEFAULT 0,
  enabled INTEGER NOT NULL DEFAULT 1,
  source TEXT NOT NULL DEFAULT 'api',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE alert_rules (
  monitor_id TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE alert_monitor_state (
  monitor_id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('up', 'down', 'degraded')),
  incident_id TEXT,
  updated_at INTEGER NOT NULL
);
CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('auto', 'manual')),
  title TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
  impact TEXT NOT NULL CHECK (impact IN ('none', 'minor', 'major', 'critical')),
  monitor_ids TEXT NOT NULL DEFAULT '[]',
  status_page_slug TEXT,
  started_at INTEGER NOT NULL,
  resolved_at INTEGER,
  acknowledged_at INTEGER,
  acknowledged_by TEXT
);
CREATE INDEX incidents_started ON incidents (started_at DESC);
CREATE TABLE incident_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, at);
CREATE TABLE alert_outbox (
  id TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claimed_by TEXT,
  claimed_until INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  delivered_at INTEGER
);
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at) WHERE status = 'pending';
`,
  },
  {
    version: 2,
    name: 'alert_region_state: per-(monitor, region) run counts shared by every replica',
    sql: `
CREATE TABLE alert_region_state (
  monitor_id TEXT NOT NULL,
  region TEXT NOT NULL,
  fails INTEGER NOT NULL,
  oks INTEGER NOT NULL,
  failing INTEGER NOT NULL,
  first_failure_at INTEGER,
  last_at INTEGER NOT NULL,
  PRIMARY KEY (monitor_id, region)
);
`,
  },
];
