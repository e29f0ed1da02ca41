import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, type SqliteDb } from '../../src/store/sqlite/db.js';
import { SqliteMonitoringStore } from '../../src/store/sqlite/monitoring.js';
import { SingleNodeLeader } from '../../src/store/sqlite/leader.js';
import type { LeaderElector } from '../../src/store/leader.js';
import type { MonitorSpec, ResultInput } from '../../src/store/monitoring.js';

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

export function spec(over: Partial<MonitorSpec> = {}): MonitorSpec {
  return {
    name: 'example',
    type: 'http',
    url: 'http://127.0.0.1:9/health',
    method: 'GET',
    headers: {},
    body: '',
    interval_ms: 30_000,
    timeout_ms: 10_000,
    assertions: [],
    assertions_compiled: [],
    options: {},
    regions: ['global'],
    enabled: true,
    ...over,
  };
}

export function result(runId: string, eventAt: number, over: Partial<ResultInput> = {}): ResultInput {
  return {
    run_id: runId,
    event_at: eventAt,
    status: 'up',
    http_code: 200,
    dns_ms: 1,
    connect_ms: 1,
    tls_ms: null,
    ttfb_ms: 5,
    download_ms: 1,
    total_ms: 8,
    size_bytes: 100,
    error: null,
    error_class: null,
    assertions: null,
    details: null,
    started_at: eventAt,
    finished_at: eventAt + 8,
    ...over,
  };
}

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
