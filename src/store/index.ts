import type { LbStore } from './lb.js';
import { openSqlite, type SqliteDb } from './sqlite/db.js';
import { SqliteLbStore } from './sqlite/lb.js';

export type { LbStore } from './lb.js';

export interface OpenedStore {
  /** The shared SQLite handle (the monitoring store opens its own tables on it). */
  db: SqliteDb;
  lb: LbStore;
  /** Closes the database. Idempotent. */
  close(): void;
}

/**
 * Opens the configured database and the load-balancer store on it. Only SQLite is implemented; a
 * `postgres://` URL is refused with a clear message until the PostgreSQL store lands.
 */
export function openStore(config: { database: string }): OpenedStore {
  const target = config.database;
  if (/^postgres(ql)?:\/\//i.test(target)) {
    throw new Error('database: PostgreSQL is not supported yet; use a SQLite file path');
  }
  const db = openSqlite(target);
  let lb: LbStore;
  try {
    lb = new SqliteLbStore(db);
  } catch (err) {
    db.close();
    throw err;
  }
  let closed = false;
  return {
    db,
    lb,
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
