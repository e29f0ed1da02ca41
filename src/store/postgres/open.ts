/** Opens every store on PostgreSQL: one pool for the stores, one dedicated connection for the leader lock. */
import type { Logger } from 'pino';
import type { OpenedStore, StoreConfig } from '../index.js';
import { createPool } from './db.js';
import { PgLbStore } from './lb.js';
import { PgLeader } from './leader.js';
import { PgMonitoringStore } from './monitoring.js';
import { PgNotifier } from './notify.js';
import { PgStatusPagesStore } from './status-pages.js';
import { PgPkiStore } from './pki.js';
import { PgUserStore } from './users.js';
import { PgDashboardStore } from './dashboard.js';
import { PgAlertsStore } from './alerts.js';

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** The seed's defaults of the pool keys (src/config/server.ts holds the same). */
const POOL_DEFAULTS = { db_max_open_conns: 25, db_max_idle_conns: 5, db_conn_max_lifetime: 300 };

export async function openPostgres(config: StoreConfig, opts: { logger?: Logger; now?: () => number }): Promise<OpenedStore> {
  const pool = createPool({
    url: config.database,
    maxOpen: config.db_max_open_conns ?? POOL_DEFAULTS.db_max_open_conns,
    maxIdle: config.db_max_idle_conns ?? POOL_DEFAULTS.db_max_idle_conns,
    maxLifetimeSeconds: config.db_conn_max_lifetime ?? POOL_DEFAULTS.db_conn_max_lifetime,
  });
  const notifier = new PgNotifier({ url: config.database, logger: opts.logger?.child({ component: 'listen' }) });
  try {
    const lb = await PgLbStore.open(pool, notifier);
    const monitoring = await PgMonitoringStore.open(pool, { now: opts.now, notifier });
    const statusPages = await PgStatusPagesStore.open(pool);
    const pki = await PgPkiStore.open(pool);
    const users = await PgUserStore.open(pool);
    const dashboard = await PgDashboardStore.open(pool);
    const alerts = await PgAlertsStore.open(pool);
    const leader = new PgLeader({ url: config.database, logger: opts.logger?.child({ component: 'leader' }) });
    let closing: Promise<void> | null = null;
    return {
      lb,
      monitoring,
      statusPages,
      pki,
      users,
      dashboard,
      alerts,
      leader,
      engine: 'postgres',
      databaseDown: () => notifier.down(),
      close: () =>
        (closing ??= (async () => {
          await leader.stop();
          await notifier.close();
          await pool.end();
        })()),
    };
  } catch (err) {
    await notifier.close();
    await pool.end().catch(() => undefined);
    throw err;
  }
}
