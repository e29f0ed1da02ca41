/**
 * SQLite-specific: the monitoring schema's migration 2 (monitors.type loses its CHECK list) on a database
 * created with the version-1 schema. Raw SQL is the point here: the old schema has no store code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openSqlite, type SqliteDb } from '../../src/store/sqlite/db.js';
import { MONITORING_MIGRATIONS } from '../../src/store/sqlite/migrations/monitoring.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { readSqliteFile } from './sqlite-file.js';

const T0 = 1_700_000_000_000;

describe('monitoring migration 2 (no CHECK on monitors.type)', () => {
  let dir: string;
  let file: string;
  let store: OpenedStore | null = null;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vantage-mig-'));
    file = join(dir, 'v.db');
  });
  afterEach(() => {
    store?.close();
    store = null;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A database as version 1 left it: a monitor, its jobs (which reference it) and a result. */
  function createV1(): void {
    const db: SqliteDb = openSqlite(file);
    try {
      migrate(db, 'monitoring', MONITORING_MIGRATIONS.slice(0, 1));
      expect(() =>
        db.prepare(`INSERT INTO monitors (id, name, type, url, interval_ms, timeout_ms, jitter_seed, created_at, updated_at) VALUES ('x', 'x', 'smtp', 'u', 1, 1, 0, 0, 0)`).run(),
      ).toThrow(/CHECK constraint/);
      db.prepare(
        `INSERT INTO monitors (id, name, owner, type, url, interval_ms, timeout_ms, regions, jitter_seed, next_due_at, created_at, updated_at)
         VALUES ('m1', 'old', 'alice', 'tcp', 'tcp://db:5432', 30000, 5000, '["eu"]', 7, ?, ?, ?)`,
      ).run(T0 + 30_000, T0, T0);
      db.prepare(`INSERT INTO jobs (run_id, monitor_id, region, status, scheduled_at, created_at) VALUES ('r1', 'm1', 'eu', 'ready', ?, ?)`).run(T0, T0);
      db.prepare(`INSERT INTO jobs (run_id, monitor_id, region, status, scheduled_at, created_at) VALUES ('r2', 'm1', 'eu', 'ready', ?, ?)`).run(T0 + 1, T0);
    } finally {
      db.close();
    }
  }

  it('keeps the data, accepts any type name afterwards and keeps the jobs → monitors foreign key', async () => {
    createV1();
    store = openSqliteStore(file);
    const m = await store.monitoring.getMonitor('m1');
    expect(m).toMatchObject({ name: 'old', owner: 'alice', type: 'tcp', url: 'tcp://db:5432', regions: ['eu'], jitter_seed: 7, next_due_at: T0 + 30_000 });
    expect((await store.monitoring.getJob('r1'))?.monitor_id).toBe('m1');
    expect(await store.monitoring.countJobs()).toEqual({ ready: 2, leased: 0, done: 0 });

    const leased = await store.monitoring.leaseJobs({ workerId: 'w', region: 'eu', count: 5, now: T0, leadMs: 10, leaseMs: 1_000 });
    expect(leased.map((j) => [j.run_id, j.monitor.type])).toEqual([
      ['r1', 'tcp'],
      ['r2', 'tcp'],
    ]);

    readSqliteFile(file, (db) => {
      const ddl = (db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'monitors'`).get() as { sql: string }).sql;
      expect(ddl).not.toMatch(/CHECK \(type IN/);
      expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'monitors_due'`).get()).toBeTruthy();
      expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'monitors_v2'`).get()).toBeUndefined();
      expect(db.pragma('foreign_key_check')).toEqual([]);
      expect(db.prepare(`SELECT version FROM schema_migrations WHERE component = 'monitoring' ORDER BY version`).all()).toEqual([{ version: 1 }, { version: 2 }]);
    });
    store.close();

    // Foreign keys are on again: a job of a missing monitor is refused.
    const db = openSqlite(file);
    try {
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(() => db.prepare(`INSERT INTO jobs (run_id, monitor_id, region, status, scheduled_at, created_at) VALUES ('r9', 'ghost', 'eu', 'ready', 0, 0)`).run()).toThrow(
        /FOREIGN KEY/,
      );
    } finally {
      db.close();
    }
  });

  it('a new database gets both versions and stores a type it has never heard of', async () => {
    store = openSqliteStore(file);
    const rec = await store.monitoring.createMonitor(
      {
        name: 'n',
        type: 'smtp',
        url: 'smtp://mail:25',
        method: 'GET',
        headers: {},
        body: '',
        interval_ms: 60_000,
        timeout_ms: 5_000,
        assertions: [],
        assertions_compiled: [],
        options: {},
        regions: ['global'],
        enabled: true,
      },
      { id: 'm2', actor: 'a', now: T0, jitterSeed: 1 },
    );
    expect((await store.monitoring.getMonitor(rec.id))?.type).toBe('smtp');
  });

  it('a migration that breaks a foreign key is rolled back and foreign keys are switched on again', () => {
    const db = openSqlite(file);
    try {
      migrate(db, 'monitoring', MONITORING_MIGRATIONS.slice(0, 1));
      db.prepare(`INSERT INTO monitors (id, name, url, interval_ms, timeout_ms, jitter_seed, created_at, updated_at) VALUES ('m', 'm', 'u', 1, 1, 0, 0, 0)`).run();
      db.prepare(`INSERT INTO jobs (run_id, monitor_id, region, status, scheduled_at, created_at) VALUES ('r', 'm', 'g', 'ready', 0, 0)`).run();
      const bad = { version: 2, name: 'drops a referenced row', rebuildsTables: true, sql: `DELETE FROM monitors;` };
      expect(() => migrate(db, 'monitoring', [bad])).toThrow(/foreign key check/);
      expect(db.prepare('SELECT COUNT(*) AS n FROM monitors').get()).toEqual({ n: 1 });
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.prepare(`SELECT MAX(version) AS v FROM schema_migrations WHERE component = 'monitoring'`).get()).toEqual({ v: 1 });
    } finally {
      db.close();
    }
  });
});
