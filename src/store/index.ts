/**
 * Opens the configured database and every store on it: the load balancer's, the monitoring control plane's and
 * the leader elector. Callers see only the interfaces (./lb.ts, ./monitoring.ts, ./leader.ts); each database
 * folder (./sqlite/, ./postgres/) implements all three and passes the contract suite in test/store/contract/.
 */
import type { Logger } from 'pino';
import type { AlertsStore } from './alerts.js';
import type { LbStore } from './lb.js';
import type { LeaderElector } from './leader.js';
import type { MonitoringStore } from './monitoring.js';
import type { StatusPagesStore } from './status-pages.js';
import type { PkiStore } from './pki.js';
import { SqlitePkiStore } from './sqlite/pki.js';
import type { UserStore } from './users.js';
import { SqliteUserStore } from './sqlite/users.js';
import type { DashboardStore } from './dashboard.js';
import { SqliteDashboardStore } from './sqlite/dashboard.js';
import { openSqlite } from './sqlite/db.js';
import { SqliteLbStore } from './sqlite/lb.js';
import { SingleNodeLeader } from './sqlite/leader.js';
import { SqliteMonitoringStore } from './sqlite/monitoring.js';
import { SqliteStatusPagesStore } from './sqlite/status-pages.js';
import { SqliteAlertsStore } from './sqlite/alerts.js';
import { isPostgresUrl, openPostgres } from './postgres/open.js';

export type { AlertsStore } from './alerts.js';
export type { LbStore } from './lb.js';
export type { LeaderElector } from './leader.js';
export type { MonitoringStore } from './monitoring.js';
export type { StatusPagesStore } from './status-pages.js';
export type { PkiStore } from './pki.js';
export type { UserStore } from './users.js';
export type { DashboardStore } from './dashboard.js';
export { isPostgresUrl } from './postgres/open.js';
export { acquireServerLock, ServerLockError, serverLockPath, type ServerLock } from './sqlite/server-lock.js';

export interface OpenedStore {
  lb: LbStore;
  monitoring: MonitoringStore;
  leader: LeaderElector;
  /** Status pages, maintenance windows and subscribers (component "status"). */
  statusPages: StatusPagesStore;
  /** The worker CA, enrollment tokens, issued certificates (src/store/pki.ts). */
  pki: PkiStore;
  /** Web users, sessions, setup tokens and generated secrets (component "auth"). */
  users: UserStore;
  /** The dashboard's read queries over the monitoring tables. */
  dashboard: DashboardStore;
  /** Alert channels, alert status, incidents and the notification outbox. */
  alerts: AlertsStore;
  /** Which engine the store runs on. */
  engine: 'sqlite' | 'postgres';
  /** Why the database cannot be reached right now, or null when it can (SQLite: always null). */
  databaseDown(): string | null;
  /** Closes the database (and, on PostgreSQL, the leader's connection). Idempotent. */
  close(): Promise<void>;
}

/** The config keys openStore reads (ServerConfig has them all). */
export interface StoreConfig {
  /** A SQLite file path, or a postgres:// (postgresql://) URL. */
  database: string;
  db_max_open_conns?: number;
  db_max_idle_conns?: number;
  db_conn_max_lifetime?: number;
}

export interface OpenStoreOptions {
  logger?: Logger;
  /** Clock in ms (default Date.now); the PostgreSQL store uses it to create day partitions ahead. */
  now?: () => number;
}

/**
 * A `postgres://` or `postgresql://` URL opens PostgreSQL (pool, migrations once under an advisory lock, the
 * advisory-lock leader); anything else is a SQLite file path. Rejects when the database cannot be opened or
 * migrated (the server's start-up retries a PostgreSQL that is not reachable yet).
 */
export async function openStore(config: StoreConfig, opts: OpenStoreOptions = {}): Promise<OpenedStore> {
  if (isPostgresUrl(config.database)) return openPostgres(config, opts);
  return openSqliteStore(config.database);
}

/** Opens every store on a SQLite file, synchronously (the embedded engine: one server, always the leader). */
export function openSqliteStore(path: string): OpenedStore {
  if (isPostgresUrl(path)) throw new Error('database: a postgres:// URL needs openStore (asynchronous)');
  const db = openSqlite(path);
  let lb: LbStore;
  let monitoring: MonitoringStore;
  let statusPages: StatusPagesStore;
  let pki: PkiStore;
  let users: UserStore;
  let dashboard: DashboardStore;
  let alerts: AlertsStore;
  try {
    lb = new SqliteLbStore(db);
    monitoring = new SqliteMonitoringStore(db);
    statusPages = new SqliteStatusPagesStore(db);
    pki = new SqlitePkiStore(db);
    users = new SqliteUserStore(db);
    dashboard = new SqliteDashboardStore(db);
    alerts = new SqliteAlertsStore(db);
  } catch (err) {
    db.close();
    throw err;
  }
  let closed = false;
  return {
    lb,
    monitoring,
    statusPages,
    pki,
    users,
    dashboard,
    alerts,
    leader: new SingleNodeLeader(),
    engine: 'sqlite',
    databaseDown: () => null,
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
