import type { PgMigration } from '../db.js';

/**
 * Schema of the load-balancer tables on PostgreSQL (component "lb"): the same tables, columns and indexes as
 * the SQLite schema (src/store/sqlite/migrations/lb.ts, the seed's names); times are BIGINT epoch ms.
 */
export const PG_LB_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'clients, stats, sticky_assignments',
    sql: `
CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL,
  public_ip TEXT,
  local_ip TEXT,
  latitude DOUBLE PRECISION,
  longitude DOUBLE PRECISION,
  country TEXT,
  city TEXT,
  total_cpu INTEGER NOT NULL,
  total_memory DOUBLE PRECISION NOT NULL,
  total_storage DOUBLE PRECISION NOT NULL,
  total_gpus INTEGER NOT NULL DEFAULT 0,
  gpu_models TEXT NOT NULL DEFAULT '[]',
  endpoint TEXT NOT NULL,
  endpoints_json TEXT NOT NULL DEFAULT '[]',
  created_at BIGINT NOT NULL,
  last_seen BIGINT NOT NULL
);
CREATE TABLE stats (
  id BIGSERIAL PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  timestamp BIGINT NOT NULL,
  cpu_cores INTEGER NOT NULL,
  cpu_usage_json TEXT NOT NULL,
  memory_total DOUBLE PRECISION NOT NULL,
  memory_used DOUBLE PRECISION NOT NULL,
  memory_avail DOUBLE PRECISION NOT NULL,
  disk_total DOUBLE PRECISION NOT NULL,
  disk_used DOUBLE PRECISION NOT NULL,
  disk_avail DOUBLE PRECISION NOT NULL,
  gpu_stats_json TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE sticky_assignments (
  sticky_id TEXT NOT NULL,
  tier TEXT NOT NULL,
  client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  last_used BIGINT NOT NULL,
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
