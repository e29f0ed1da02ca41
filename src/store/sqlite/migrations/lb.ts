import type { Migration } from '../db.js';

/**
 * Schema of the load-balancer tables (component "lb"). Column names follow the Opsen seed; times are INTEGER
 * milliseconds since the epoch. Vantage additions: clients.local_ip, clients.endpoints_json and the
 * idx_stats_time index used by the retention job.
 */
export const LB_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'clients, stats, sticky_assignments',
    sql: `
CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL,
  public_ip TEXT,
  local_ip TEXT,
  latitude REAL,
  longitude REAL,
  country TEXT,
  city TEXT,
  total_cpu INTEGER NOT NULL,
  total_memory REAL NOT NULL,
  total_storage REAL NOT NULL,
  total_gpus INTEGER NOT NULL DEFAULT 0,
  gpu_models TEXT NOT NULL DEFAULT '[]',
  endpoint TEXT NOT NULL,
  endpoints_json TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE TABLE stats (
  id INTEGER PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  timestamp INTEGER NOT NULL,
  cpu_cores INTEGER NOT NULL,
  cpu_usage_json TEXT NOT NULL,
  memory_total REAL NOT NULL,
  memory_used REAL NOT NULL,
  memory_avail REAL NOT NULL,
  disk_total REAL NOT NULL,
  disk_used REAL NOT NULL,
  disk_avail REAL NOT NULL,
  gpu_stats_json TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE sticky_assignments (
  sticky_id TEXT NOT NULL,
  tier TEXT NOT NULL,
  client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  PRIMARY KEY (sticky_id, tier)
);
CREATE INDEX idx_stats_client_time ON stats(client_id, timestamp DESC);
CREATE INDEX idx_clients_last_seen ON clients(last_seen);
CREATE INDEX idx_sticky_last_used ON sticky_assignments(last_used);
CREATE INDEX idx_sticky_client ON sticky_assignments(client_id);
CREATE INDEX idx_sticky_id ON sticky_assignments(sticky_id);
CREATE INDEX idx_stats_time ON stats(timestamp);
`,
  },
];
