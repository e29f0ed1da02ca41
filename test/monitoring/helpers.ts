import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, type SqliteDb } from '../../src/store/sqlite/db.js';
import { SqliteMonitoringStore } from '../../src/store/sqlite/monitoring.js';
import { SingleNodeLeader } from '../../src/store/sqlite/leader.js';
import type { LeaderElector } from '../../src/store/leader.js';

export interface TempStore {
  dir: string;
  path: string;
  db: SqliteDb;
  store: SqliteMonitoringStore;
  leader: LeaderElector;
  close(): void;
}

/** A fresh SQLite file in a temp dir with the monitoring schema. */
export function tempStore(): TempStore {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-mon-'));
  const path = join(dir, 'vantage.db');
  const db = openSqlite(path);
  const store = new SqliteMonitoringStore(db);
  return {
    dir,
    path,
    db,
    store,
    leader: new SingleNodeLeader(),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { result, spec } from '../store/contract/fixtures.js';

/** Polls `cond` until it is truthy or the deadline passes (never a bare sleep). */
export async function waitFor<T>(cond: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 10));
  }
}
