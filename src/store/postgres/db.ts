/**
 * PostgreSQL connections: one pool per server (sized by db_max_open_conns / db_max_idle_conns /
 * db_conn_max_lifetime), BIGINT read back as a JS number (epoch milliseconds and counters stay far below 2^53),
 * transactions, and versioned migrations per component applied once under an advisory lock.
 */
import pg from 'pg';

/** The pool settings (server config keys of the same names). */
export interface PgPoolOptions {
  url: string;
  /** db_max_open_conns: at most this many connections at once. */
  maxOpen: number;
  /** db_max_idle_conns: idle connections kept open; above this an idle connection closes after IDLE_CLOSE_MS. */
  maxIdle: number;
  /** db_conn_max_lifetime (seconds): a connection is retired after this long; 0 = never. */
  maxLifetimeSeconds: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

/** How long a connection above db_max_idle_conns may sit idle before it closes. */
export const IDLE_CLOSE_MS = 5_000;

const INT8_OID = 20;

/** Type parsers of every Vantage connection: BIGINT and COUNT(*) as numbers, everything else as pg does. */
export const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** The connection settings every Vantage connection uses (pooled or not). */
export function clientConfig(url: string, applicationName = 'vantage'): pg.ClientConfig {
  return { connectionString: url, types: pgTypes, application_name: applicationName, connectionTimeoutMillis: 10_000 };
}

export function createPool(o: PgPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(o.url, o.applicationName),
    max: Math.max(1, o.maxOpen),
    min: Math.max(0, Math.min(o.maxIdle, o.maxOpen)),
    idleTimeoutMillis: IDLE_CLOSE_MS,
    maxLifetimeSeconds: Math.max(0, o.maxLifetimeSeconds),
  });
  // An idle pooled connection that the server drops (restart, pg_terminate_backend) emits 'error' on the pool;
  // the pool discards it and the next query opens a fresh one. Without a listener the process would crash.
  pool.on('error', () => undefined);
  return pool;
}

export type Queryable = pg.Pool | pg.PoolClient | pg.Client;

/** Runs `fn` in one transaction on one pooled connection; rolls back on error. */
export async function tx<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  // A checked-out connection that the server drops between two statements emits 'error' on the client, not on
  // a query; unhandled, that would crash the process. The next statement fails instead, and release(err)
  // below discards the connection.
  const onError = (): void => undefined;
  c.on('error', onError);
  let broken: Error | undefined;
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error(String(e));
    });
    throw err;
  } finally {
    c.off('error', onError);
    c.release(broken);
  }
}

/** One schema change of a component; versions ascend. */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/** Advisory lock key of migrations (any fixed 64-bit value; advisory locks are per database). */
const MIGRATION_LOCK = 0x76616e74_6d696772n; // "vantmigr"

/**
 * Applies the pending migrations of `component` in one transaction that first takes a transaction-level
 * advisory lock: replicas starting at the same moment queue on the lock, the first applies the migrations and
 * the others find nothing pending. DDL is transactional in PostgreSQL, so a failed migration leaves nothing
 * behind. Returns the number applied by this call.
 */
export async function migrate(pool: pg.Pool, component: string, migrations: readonly PgMigration[]): Promise<number> {
  return tx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      component TEXT NOT NULL,
      version INTEGER NOT NULL,
      name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (component, version)
    )`);
    const { rows } = await c.query<{ v: number }>('SELECT COALESCE(MAX(version), 0)::int AS v FROM schema_migrations WHERE component = $1', [component]);
    const current = rows[0]!.v;
    const pending = [...migrations].filter((m) => m.version > current).sort((a, b) => a.version - b.version);
    for (const m of pending) {
      await c.query(m.sql);
      await c.query('INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)', [component, m.version, m.name]);
    }
    return pending.length;
  });
}
