/** The store contract suite on PostgreSQL: a fresh database on the throwaway cluster per test. */
import { afterAll, beforeAll } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { runStoreContract } from '../store/contract/index.js';
import { startCluster, type Cluster } from './cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});

runStoreContract('postgres', async () => {
  const url = await cluster.createDatabase('contract');
  const opened = await openStore({ database: url, db_max_open_conns: 10 });
  return {
    stores: { lb: opened.lb, monitoring: opened.monitoring, leader: opened.leader, statusPages: opened.statusPages, pki: opened.pki, users: opened.users, dashboard: opened.dashboard, alerts: opened.alerts },
    close: () => opened.close(),
  };
});
