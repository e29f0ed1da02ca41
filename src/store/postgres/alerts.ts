/** The alerts store on PostgreSQL: the shared SQL (../alerts-sql.ts) over the pool; row locks and SKIP LOCKED claims. */
import type pg from 'pg';
import { SqlAlertsStore, type Row, type SqlEngine, type SqlExec, type TxBody } from '../alerts-sql.js';
import { migrate, tx, type Queryable } from './db.js';
import { PG_ALERTS_MIGRATIONS } from './migrations/alerts.js';

/** `?` placeholders → `$1, $2, …` (the shared SQL has no `?` inside string literals). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

function exec(q: Queryable): SqlExec {
  return {
    all: async (sql, params = []) => (await q.query<Row>(numbered(sql), params)).rows,
    run: async (sql, params = []) => (await q.query(numbered(sql), params)).rowCount ?? 0,
  };
}

export class PgAlertsStore extends SqlAlertsStore {
  private constructor(pool: pg.Pool) {
    const engine: SqlEngine = {
      ...exec(pool),
      lockSuffix: ' FOR UPDATE',
      claimSuffix: ' FOR UPDATE SKIP LOCKED',
      tx: <T>(body: () => TxBody<T>) =>
        tx(pool, async (c) => {
          const x = exec(c);
          const g = body();
          let step = g.next();
          while (!step.done) step = g.next(step.value.kind === 'all' ? await x.all(step.value.sql, step.value.params) : await x.run(step.value.sql, step.value.params));
          return step.value;
        }),
    };
    super(engine, true);
  }

  static async open(pool: pg.Pool): Promise<PgAlertsStore> {
    await migrate(pool, 'alerts', PG_ALERTS_MIGRATIONS);
    return new PgAlertsStore(pool);
  }
}
