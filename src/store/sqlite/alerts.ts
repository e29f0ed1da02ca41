/** The alerts store on SQLite: the shared SQL (../alerts-sql.ts) over better-sqlite3. */
import { SqlAlertsStore, type Row, type SqlEngine, type SqlExec } from '../alerts-sql.js';
import { migrate, type SqliteDb } from './db.js';
import { ALERTS_MIGRATIONS } from './migrations/alerts.js';

/**
 * better-sqlite3 is synchronous; a transaction here spans awaits of already-settled promises, so it is held in a
 * queue: one alerts transaction at a time. Other components' statements on the same connection run only
 * between event-loop turns of ours, and they are synchronous transactions of their own.
 */
function engine(db: SqliteDb): SqlEngine {
  const exec: SqlExec = {
    all: (sql, params = []) => Promise.resolve(db.prepare(sql).all(...(params as never[])) as Row[]),
    run: (sql, params = []) => Promise.resolve(db.prepare(sql).run(...(params as never[])).changes),
  };
  let chain: Promise<unknown> = Promise.resolve();
  return {
    ...exec,
    lockSuffix: '',
    claimSuffix: '',
    tx<T>(fn: (x: SqlExec) => Promise<T>): Promise<T> {
      const run = async (): Promise<T> => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const out = await fn(exec);
          db.exec('COMMIT');
          return out;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      };
      const p = chain.then(run, run);
      chain = p.catch(() => undefined);
      return p;
    },
  };
}

export class SqliteAlertsStore extends SqlAlertsStore {
  constructor(db: SqliteDb) {
    migrate(db, 'alerts', ALERTS_MIGRATIONS);
    super(engine(db));
  }
}
