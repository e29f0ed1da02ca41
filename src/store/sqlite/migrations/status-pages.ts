import type { Migration } from '../db.js';

/**
 * Schema of the "status" component: status pages (groups as JSON), maintenance windows (schedule and targets as
 * JSON), subscribers (double opt-in: confirmed_at is null until the emailed link is opened) and the ledger of
 * maintenance notices already sent (one row per window occurrence and kind). Times are epoch ms.
 */
export const STATUS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'status_pages, maintenance_windows, status_subscribers, maintenance_notices',
    sql: `
CREATE TABLE status_pages (
  slug TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  groups_json TEXT NOT NULL DEFAULT '[]',
  show_targets INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE maintenance_windows (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  schedule_json TEXT NOT NULL,
  targets_json TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE status_subscribers (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL REFERENCES status_pages(slug) ON DELETE CASCADE,
  email TEXT NOT NULL,
  email_key TEXT NOT NULL,
  token TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  UNIQUE (slug, email_key)
);
CREATE TABLE maintenance_notices (
  window_id TEXT NOT NULL,
  occurrence_start INTEGER NOT NULL,
  kind TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (window_id, occurrence_start, kind)
);
`,
  },
  // The status page's 90-day bars sum count and up_count of the 1d (and, under maintenance, 1h) rollups of up to
  // hundreds of monitors. The rollup tables are WITHOUT ROWID with the latency sketch inline, so a range scan of
  // the primary key reads every sketch; these covering indexes answer the sums from the index alone.
  {
    version: 2,
    name: 'covering indexes of the rollup counts (status page bars)',
    sql: `
CREATE INDEX IF NOT EXISTS results_agg_1d_counts ON results_agg_1d (monitor_id, bucket_start, count, up_count);
CREATE INDEX IF NOT EXISTS results_agg_1h_counts ON results_agg_1h (monitor_id, bucket_start, count, up_count);
`,
  },
];
