import type { PgMigration } from '../db.js';

/**
 * Schema of the users store (component "auth"): users with a role, sessions (keyed by the SHA-256 of the
 * cookie's token id), one-time setup tokens (by hash) and generated secrets: the same tables as the SQLite
 * schema (src/store/sqlite/migrations/auth.ts); times are BIGINT epoch ms.
 */
export const PG_AUTH_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'users, sessions, setup_tokens, auth_secrets',
    sql: `
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  username_key TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL
);
CREATE INDEX idx_sessions_user ON sessions(user_id);
CREATE INDEX idx_sessions_expires ON sessions(expires_at);
CREATE TABLE setup_tokens (
  token_hash TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE TABLE auth_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
];
