/** The alerts store on SQLite: the shared SQL (../alerts-sql.ts) over better-sqlite3. */
import type Database from 'better-sqlite3';
import { SqlAlertsStore, type Row, type SqlEngine, type TxBody } from '../alerts-sql.js';
import { migrate, type SqliteDb } from './db.js';
import { ALERTS_MIGRATIONS } from './migrations/alerts.js';

/**
 * Transaction bodies are driven synchronously inside one `BEGIN IMMEDIATE` transaction of better-sqlite3, so no
 * other statement on the connection (ingest, the scheduler) can land inside an alerts transaction.
 */
function engine(db: SqliteDb): SqlEngine {
  // Prepared once per statement text (the ingest path runs the same few statements for every result).
  const cache = new Map<string, Database.Statement<unknown[]>>();
  const stmt = (sql: string) => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare<unknown[]>(sql);
      if (cache.size < 500) cache.set(sql, s);
    }
    return s;
  };
  const all = (sql: string, params: unknown[] = []): Row[] => stmt(sql).all(...params) as Row[];
  const run = (sql: string, params: unknown[] = []): number => stmt(sql).run(...params).changes;
  return {
    all: (sql, params) => Promise.resolve(all(sql, params)),
    run: (sql, params) => Promise.resolve(run(sql, params)),
    lockSuffix: '',
    claimSuffix: '',
    tx<T>(body: () => TxBody<T>): Promise<T> {
      try {
        const out = db
          .transaction(() => {
            const g = body();
            let step = g.next();
            while (!step.done) step = g.next(step.value.kind === 'all' ? all(step.value.sql, step.value.params) : run(step.value.sql, step.value.params));
            return step.value;
          })
          .immediate();
        return Promise.resolve(out);
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
  };
}

export class SqliteAlertsStore extends SqlAlertsStore {
  constructor(db: SqliteDb) {
    migrate(db, 'alerts', ALERTS_MIGRATIONS);
    super(engine(db), false);
  }
}
