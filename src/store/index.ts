/**
 * Opens the configured database and every store on it: the load balancer's, the monitoring control plane's and
 * the leader elector. Callers see only the interfaces (./lb.ts, ./monitoring.ts, ./leader.ts); each database
 * folder (./sqlite/ now, ./postgres/ later) implements all three.
 */
import type { LbStore } from './lb.js';
import type { LeaderElector } from './leader.js';
import type { MonitoringStore } from './monitoring.js';
import { openSqlite } from './sqlite/db.js';
import { SqliteLbStore } from './sqlite/lb.js';
import { SingleNodeLeader } from './sqlite/leader.js';
import { SqliteMonitoringStore } from './sqlite/monitoring.js';

export type { LbStore } from './lb.js';
export type { LeaderElector } from './leader.js';
export type { MonitoringStore } from './monitoring.js';

export interface OpenedStore {
  lb: LbStore;
  monitoring: MonitoringStore;
  leader: LeaderElector;
  /** Closes the database. Idempotent. */
  close(): void;
}

/**
 * Only SQLite is implemented; a `postgres://` URL is refused with a clear message until the PostgreSQL store
 * lands.
 */
export function openStore(config: { database: string }): OpenedStore {
  const target = config.database;
  if (/^postgres(ql)?:\/\//i.test(target)) {
    throw new Error('database: PostgreSQL is not supported yet; use a SQLite file path');
  }
  const db = openSqlite(target);
  let lb: LbStore;
  let monitoring: MonitoringStore;
  try {
    lb = new SqliteLbStore(db);
    monitoring = new SqliteMonitoringStore(db);
  } catch (err) {
    db.close();
    throw err;
  }
  let closed = false;
  return {
    lb,
    monitoring,
    leader: new SingleNodeLeader(),
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
