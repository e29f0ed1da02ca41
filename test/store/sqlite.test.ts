/** Runs the store contract suite on the SQLite store: a real database file in a temp dir per test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { runStoreContract } from './contract/index.js';

runStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-contract-'));
  const opened = await openStore({ database: join(dir, 'vantage.db') });
  return {
    stores: { lb: opened.lb, monitoring: opened.monitoring, leader: opened.leader, statusPages: opened.statusPages, pki: opened.pki, users: opened.users, dashboard: opened.dashboard, alerts: opened.alerts },
    close() {
      opened.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
