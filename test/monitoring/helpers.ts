import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/index.js';
import type { LbStore } from '../../src/store/lb.js';
import type { LeaderElector } from '../../src/store/leader.js';
import type { MonitoringStore } from '../../src/store/monitoring.js';

export interface TempStore {
  dir: string;
  /** The database file (for tests that reopen it). */
  path: string;
  store: MonitoringStore;
  lb: LbStore;
  leader: LeaderElector;
  close(): void;
}

/** A fresh database file in a temp dir, opened through openSqliteStore (the stores the server gets). */
export function tempStore(): TempStore {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-mon-'));
  const path = join(dir, 'vantage.db');
  const opened = openSqliteStore(path);
  return {
    dir,
    path,
    store: opened.monitoring,
    lb: opened.lb,
    leader: opened.leader,
    close() {
      opened.close();
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
