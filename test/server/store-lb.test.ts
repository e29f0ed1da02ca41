import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LbClient, LbStats } from '../../src/store/lb.js';
import { openStore, type OpenedStore } from '../../src/store/index.js';
import { readSqliteFile } from '../store/sqlite-file.js';

const DAY = 86_400_000;

function client(id: string, over: Partial<LbClient> = {}): LbClient {
  return {
    clientId: id,
    hostname: `${id}.example`,
    endpoint: `http://${id}:11000`,
    publicIp: '203.0.113.5',
    localIp: '10.0.0.5',
    lat: 0,
    lon: 0,
    country: 'NL',
    city: 'Amsterdam',
    totalCpu: 8,
    totalMemoryGb: 16,
    totalStorageGb: 100,
    totalGpus: 0,
    gpuModels: [],
    endpoints: [{ url: 'http://x:1', paths: ['/api/*'] }],
    createdAt: 1000,
    lastSeen: 1000,
    ...over,
  };
}

function stats(id: string, timestamp: number, over: Partial<LbStats> = {}): LbStats {
  return {
    clientId: id,
    timestamp,
    cpuUsage: [10, 20.5, 30, 40],
    memoryTotalGb: 16,
    memoryUsedGb: 4,
    memoryAvailGb: 12,
    diskTotalGb: 100,
    diskUsedGb: 10,
    diskAvailGb: 90,
    gpus: [],
    ...over,
  };
}

describe('SqliteLbStore', () => {
  let dir: string;
  let file: string;
  let store: OpenedStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vantage-lb-'));
    file = join(dir, 'sub', 'lb.db');
    store = openStore({ database: file });
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

  it('round-trips clients, keeps created_at on update and keeps 0 coordinates as real values', async () => {
    await store.lb.upsertClient(client('a', { gpuModels: ['H200'], totalGpus: 1 }));
    await store.lb.upsertClient(client('a', { hostname: 'renamed', createdAt: 5000, lastSeen: 6000, lat: null, lon: null }));
    await store.lb.upsertClient(client('b'));
    const list = await store.lb.listClients();
    expect(list.map((c) => c.clientId)).toEqual(['a', 'b']);
    expect(list[0]).toMatchObject({ hostname: 'renamed', createdAt: 1000, lastSeen: 6000, lat: null, lon: null });
    expect(list[1]).toMatchObject({ lat: 0, lon: 0, endpoints: [{ url: 'http://x:1', paths: ['/api/*'] }] });
  });

  it('survives reopening the file (migrations are not re-applied)', async () => {
    await store.lb.upsertClient(client('a'));
    store.close();
    store = openStore({ database: file });
    expect((await store.lb.listClients()).map((c) => c.clientId)).toEqual(['a']);
    const versions = readSqliteFile(file, (db) => db.prepare("SELECT COUNT(*) AS n FROM schema_migrations WHERE component = 'lb'").get() as {
      n: number;
    });
    expect(versions.n).toBe(1);
  });

  it('writes a batch atomically, skipping rows of unknown clients, and returns the latest stats per client', async () => {
    await store.lb.upsertClient(client('a'));
    await store.lb.upsertClient(client('b'));
    await store.lb.writeBatch({
      stats: [stats('a', 2000), stats('a', 3000, { cpuUsage: [1, 2] }), stats('b', 2500), stats('ghost', 2000)],
      touches: [
        { clientId: 'a', lastSeen: 3100, location: { lat: 52.37, lon: 4.89 } },
        { clientId: 'b', lastSeen: 500 },
        { clientId: 'ghost', lastSeen: 9999 },
      ],
      sticky: [
        { type: 'set', assignment: { stickyId: 's1', tier: 'small', clientId: 'a', createdAt: 10, lastUsed: 20 } },
        { type: 'set', assignment: { stickyId: 's2', tier: 'small', clientId: 'ghost', createdAt: 10, lastUsed: 20 } },
        { type: 'set', assignment: { stickyId: 's3', tier: 'medium', clientId: 'b', createdAt: 10, lastUsed: 20 } },
        { type: 'delete', stickyId: 's3', tier: 'medium' },
      ],
    });
    expect(await store.lb.countStats()).toBe(3);
    const latest = await store.lb.latestStats();
    expect(latest.map((s) => [s.clientId, s.timestamp, s.cpuUsage])).toEqual([
      ['a', 3000, [1, 2]],
      ['b', 2500, [10, 20.5, 30, 40]],
    ]);
    const clients = await store.lb.listClients();
    expect(clients[0]).toMatchObject({ lastSeen: 3100, lat: 52.37, lon: 4.89 });
    // last_seen never goes backwards.
    expect(clients[1]?.lastSeen).toBe(1000);
    expect(await store.lb.listSticky()).toEqual([{ stickyId: 's1', tier: 'small', clientId: 'a', createdAt: 10, lastUsed: 20 }]);
  });

  it('deletes stats in bounded batches by age only', async () => {
    const now = 100 * DAY;
    await store.lb.upsertClient(client('a'));
    const rows: LbStats[] = [];
    for (let i = 0; i < 25; i++) rows.push(stats('a', now - 10 * DAY + i));
    for (let i = 0; i < 5; i++) rows.push(stats('a', now - DAY + i));
    await store.lb.writeBatch({ stats: rows, touches: [], sticky: [] });
    const cutoff = now - 7 * DAY;
    expect(await store.lb.deleteStatsBefore(cutoff, 10)).toBe(10);
    expect(await store.lb.deleteStatsBefore(cutoff, 10)).toBe(10);
    expect(await store.lb.deleteStatsBefore(cutoff, 10)).toBe(5);
    expect(await store.lb.deleteStatsBefore(cutoff, 10)).toBe(0);
    expect(await store.lb.countStats('a')).toBe(5);
  });

  it('deleting a client cascades to its stats and sticky assignments', async () => {
    await store.lb.upsertClient(client('a'));
    await store.lb.upsertClient(client('b'));
    await store.lb.writeBatch({
      stats: [stats('a', 1), stats('b', 1)],
      touches: [],
      sticky: [{ type: 'set', assignment: { stickyId: 's', tier: 'small', clientId: 'a', createdAt: 1, lastUsed: 1 } }],
    });
    expect(await store.lb.deleteClients(['a', 'nope'])).toBe(1);
    expect(await store.lb.countStats()).toBe(1);
    expect(await store.lb.listSticky()).toEqual([]);
  });

  it('refuses a PostgreSQL URL with a clear message', () => {
    expect(() => openStore({ database: 'postgres://localhost/x' })).toThrow(/PostgreSQL is not supported yet/);
  });
});
