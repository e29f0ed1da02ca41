import type { PgMigration } from '../db.js';

/**
 * Schema of the "status" component: status pages (groups as JSON), maintenance windows (schedule and targets as
 * JSON), subscribers (double opt-in: confirmed_at is null until the emailed link is opened) and the ledger of
 * maintenance notices already sent (one row per window occurrence and kind). Times are epoch ms.
 */
export const PG_STATUS_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'status_pages, maintenance_windows, status_subscribers, maintenance_notices',
    sql: `
CREATE TABLE status_pages (
  slug TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  groups_json TEXT NOT NULL DEFAULT '[]',
  show_targets BOOLEAN NOT NULL DEFAULT FALSE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE maintenance_windows (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  schedule_json TEXT NOT NULL,
  targets_json TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE status_subscribers (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL REFERENCES status_pages(slug) ON DELETE CASCADE,
  email TEXT NOT NULL,
  email_key TEXT NOT NULL,
  token TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  confirmed_at BIGINT,
  UNIQUE (slug, email_key)
);
CREATE TABLE maintenance_notices (
  window_id TEXT NOT NULL,
  occurrence_start BIGINT NOT NULL,
  kind TEXT NOT NULL,
  sent_at BIGINT NOT NULL,
  PRIMARY KEY (window_id, occurrence_start, kind)
);
`,
  },
];
