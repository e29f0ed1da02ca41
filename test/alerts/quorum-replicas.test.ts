/** Quorum across two replicas on one SQLite file, region counts in the store (the scenario is shared with PostgreSQL: ./quorum-scenario.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { openSqliteStore } from '../../src/store/index.js';
import { quorumAcrossReplicas } from './quorum-scenario.js';

describe('region quorum across replicas (SQLite)', () => {
  it('region A on replica 1, region B on replica 2, quorum 2: one incident when both fail, none when only one does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-quorum-'));
    const one = openSqliteStore(join(dir, 'vantage.db'));
    const two = openSqliteStore(join(dir, 'vantage.db'));
    try {
      // Two stores on one file stand in for replicas (not a real deployment: one server per SQLite file), so
      // the store path is chosen explicitly.
      await quorumAcrossReplicas(one, two, { regionCounts: 'store' });
    } finally {
      await one.close();
      await two.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
