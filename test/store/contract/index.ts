/**
 * The store contract: one scenario suite written against the interfaces only (LbStore, MonitoringStore,
 * LeaderElector), with no SQL and nothing specific to one database. Every database folder under src/store/
 * runs it (test/store/sqlite.test.ts; PostgreSQL later) with a factory that opens an empty database.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { AlertsStore } from '../../../src/store/alerts.js';
import type { LbStore } from '../../../src/store/lb.js';
import type { LeaderElector } from '../../../src/store/leader.js';
import type { MonitoringStore } from '../../../src/store/monitoring.js';
import type { StatusPagesStore } from '../../../src/store/status-pages.js';
import type { DashboardStore } from '../../../src/store/dashboard.js';
import { dashboardScenarios } from './dashboard.js';
import { lbScenarios } from './lb.js';
import { monitorScenarios } from './monitors.js';
import { leasingScenarios } from './leasing.js';
import { ingestScenarios } from './ingest.js';
import { rollupScenarios } from './rollups.js';
import { leaderScenarios } from './leader.js';
import { statusPageScenarios } from './status-pages.js';
import { pkiScenarios } from './pki.js';
import type { PkiStore } from '../../../src/store/pki.js';
import { userScenarios } from './users.js';
import type { UserStore } from '../../../src/store/users.js';
import { alertsScenarios } from './alerts.js';

export interface ContractStores {
  lb: LbStore;
  monitoring: MonitoringStore;
  leader: LeaderElector;
  statusPages: StatusPagesStore;
  pki: PkiStore;
  users: UserStore;
  dashboard: DashboardStore;
  alerts: AlertsStore;
}

/** Opens a fresh, empty database; `close` releases it (and may delete it). */
export type OpenStores = () => Promise<{ stores: ContractStores; close(): void | Promise<void> }>;

/** What each scenario file gets: the stores of the current test, and `open` for scenarios that need more. */
export interface ContractContext {
  stores(): ContractStores;
  open: OpenStores;
}

export function runStoreContract(name: string, open: OpenStores): void {
  describe(`store contract: ${name}`, () => {
    let current: Awaited<ReturnType<OpenStores>> | null = null;
    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      await current?.close();
      current = null;
    });
    const ctx: ContractContext = {
      stores() {
        if (!current) throw new Error('store contract: no store open');
        return current.stores;
      },
      open,
    };
    lbScenarios(ctx);
    monitorScenarios(ctx);
    leasingScenarios(ctx);
    ingestScenarios(ctx);
    rollupScenarios(ctx);
    leaderScenarios(ctx);
    statusPageScenarios(ctx);
    pkiScenarios(ctx);
    userScenarios(ctx);
    dashboardScenarios(ctx);
    alertsScenarios(ctx);
  });
}
