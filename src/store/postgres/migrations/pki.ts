import type { PgMigration } from '../db.js';

/** Schema of the PKI tables (component "pki"); times are BIGINT ms since the epoch (same tables as SQLite). One CA row (id = 1). */
export const PG_PKI_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'pki_ca, enrollment_tokens, worker_certs, worker_auth',
    sql: `
CREATE TABLE pki_ca (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  cert_pem TEXT NOT NULL,
  key_sealed TEXT,
  fingerprint TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE enrollment_tokens (
  id TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  region TEXT NOT NULL,
  uses_total INTEGER NOT NULL,
  uses_left INTEGER NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE worker_certs (
  serial TEXT PRIMARY KEY,
  worker_id TEXT NOT NULL,
  region TEXT NOT NULL,
  hostname TEXT NOT NULL,
  not_before BIGINT NOT NULL,
  not_after BIGINT NOT NULL,
  issued_at BIGINT NOT NULL,
  via TEXT NOT NULL,
  revoked_at BIGINT,
  revoked_reason TEXT,
  superseded_at BIGINT
);
CREATE INDEX idx_worker_certs_worker ON worker_certs(worker_id, issued_at);
CREATE TABLE worker_auth (
  worker_id TEXT PRIMARY KEY,
  via TEXT NOT NULL,
  at BIGINT NOT NULL
);
`,
  },
];
