import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { client } from '../store/contract/fixtures.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { readSqliteFile } from '../store/sqlite-file.js';

// The LbStore scenarios (registrations, stats, sticky, retention) are in the store contract suite
// (test/store/contract/lb.ts); this file keeps what is about the SQLite file itself.
describe('SqliteLbStore', () => {
  let dir: string;
  let file: string;
  let store: OpenedStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vantage-lb-'));
    file = join(dir, 'sub', 'lb.db');
    store = openSqliteStore(file);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the seed tables and indexes (checks the SQLite file itself)', () => {
    const names = readSqliteFile(file, (db) => (db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index')").all() as {
      name: string;
    }[]).map((r) => r.name));
    for (const n of [
      'clients',
      'stats',
      'sticky_assignments',
      'idx_stats_client_time',
      'idx_clients_last_seen',
      'idx_sticky_last_used',
      'idx_sticky_client',
      'idx_sticky_id',
    ]) {
      expect(names).toContain(n);
    }
    expect(readSqliteFile(file, (db) => db.pragma('journal_mode', { simple: true }))).toBe('wal');
  });

  it('survives reopening the file (migrations are not re-applied)', async () => {
    await store.lb.upsertClient(client('a'));
    store.close();
    store = openSqliteStore(file);
    expect((await store.lb.listClients()).map((c) => c.clientId)).toEqual(['a']);
    const versions = readSqliteFile(file, (db) => db.prepare("SELECT COUNT(*) AS n FROM schema_migrations WHERE component = 'lb'").get() as {
      n: number;
    });
    expect(versions.n).toBe(1);
  });

  it('the synchronous SQLite opener refuses a PostgreSQL URL with a clear message (openStore opens those)', () => {
    expect(() => openSqliteStore('postgres://localhost/x')).toThrow(/postgres:\/\/ URL needs openStore/);
  });
});
