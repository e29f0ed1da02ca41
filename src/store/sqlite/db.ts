import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDb = Database.Database;

/** One schema change. Versions are per component and applied in ascending order, each in its own transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * The migration rebuilds a table other tables reference (SQLite's create-copy-drop-rename). It runs with
   * foreign keys off, since SQLite cannot switch them inside a transaction and dropping a referenced table
   * would fail or cascade; `PRAGMA foreign_key_check` must come back empty before it commits.
   */
  rebuildsTables?: boolean;
}

/**
 * Opens (creating when missing) a SQLite database file with the settings every component relies on:
 * WAL journal, a busy timeout, foreign keys on and `synchronous=NORMAL` (durable in WAL mode across
 * process crashes; `FULL` is used for acknowledged writes through `durableWrite`).
 */
export function openSqlite(path: string, opts: { busyTimeoutMs?: number } = {}): SqliteDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  return db;
}

/**
 * Applies the pending migrations of one component (e.g. "lb", "monitoring").
 * Each component keeps its own version sequence in `schema_migrations`, so components evolve independently.
 */
export function migrate(db: SqliteDb, component: string, migrations: readonly Migration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (component, version)
  )`);
  const row = db
    .prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations WHERE component = ?')
    .get(component) as { v: number };
  const pending = [...migrations].filter((m) => m.version > row.v).sort((a, b) => a.version - b.version);
  const record = db.prepare('INSERT INTO schema_migrations (component, version, name) VALUES (?, ?, ?)');
  for (const m of pending) {
    const switchKeys = m.rebuildsTables === true && db.pragma('foreign_keys', { simple: true }) === 1;
    if (switchKeys) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(m.sql);
        if (m.rebuildsTables) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length > 0) throw new Error(`migration ${component} ${m.version}: ${broken.length} row(s) fail the foreign key check`);
        }
        record.run(component, m.version, m.name);
      })();
    } finally {
      if (switchKeys) db.pragma('foreign_keys = ON');
    }
  }
  return pending.length;
}
