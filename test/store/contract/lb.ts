/** Contract scenarios of LbStore: registrations, stats, sticky assignments, retention. */
import { describe, expect, it } from 'vitest';
import type { LbStats } from '../../../src/store/lb.js';
import type { ContractContext } from './index.js';
import { client, stats } from './fixtures.js';

const DAY = 86_400_000;

export function lbScenarios(ctx: ContractContext): void {
  const lb = () => ctx.stores().lb;

  describe('lb: registrations', () => {
    it('round-trips clients; an update replaces the fields but keeps created_at; 0 coordinates are real values', async () => {
      await lb().upsertClient(client('a', { gpuModels: ['H200'], totalGpus: 1 }));
      await lb().upsertClient(client('a', { hostname: 'renamed', createdAt: 5000, lastSeen: 6000, lat: null, lon: null }));
      await lb().upsertClient(client('b'));
      const list = await lb().listClients();
      expect(list.map((c) => c.clientId)).toEqual(['a', 'b']);
      expect(list[0]).toMatchObject({ hostname: 'renamed', createdAt: 1000, lastSeen: 6000, lat: null, lon: null, gpuModels: [], totalGpus: 0 });
      await lb().upsertClient(client('g', { gpuModels: ['H200', 'H200'], totalGpus: 2, publicIp: null, localIp: null, country: null, city: null, endpoints: [] }));
      expect((await lb().listClients())[2]).toEqual(client('g', { gpuModels: ['H200', 'H200'], totalGpus: 2, publicIp: null, localIp: null, country: null, city: null, endpoints: [] }));
      expect(list[1]).toMatchObject({ lat: 0, lon: 0, endpoints: [{ url: 'http://x:1', paths: ['/api/*'] }] });
    });

    it('an empty store has no clients, stats or sticky assignments', async () => {
      expect(await lb().listClients()).toEqual([]);
      expect(await lb().latestStats()).toEqual([]);
      expect(await lb().listSticky()).toEqual([]);
      expect(await lb().countStats()).toBe(0);
      expect(await lb().deleteClients([])).toBe(0);
      expect(await lb().deleteStatsBefore(Number.MAX_SAFE_INTEGER, 10)).toBe(0);
    });

    it('deleting a client cascades to its stats and sticky assignments', async () => {
      await lb().upsertClient(client('a'));
      await lb().upsertClient(client('b'));
      await lb().writeBatch({
        stats: [stats('a', 1), stats('b', 1)],
        touches: [],
        sticky: [{ type: 'set', assignment: { stickyId: 's', tier: 'small', clientId: 'a', createdAt: 1, lastUsed: 1 } }],
      });
      expect(await lb().deleteClients(['a', 'nope'])).toBe(1);
      expect((await lb().listClients()).map((c) => c.clientId)).toEqual(['b']);
      expect(await lb().countStats()).toBe(1);
      expect(await lb().countStats('a')).toBe(0);
      expect(await lb().listSticky()).toEqual([]);
    });
  });

  describe('lb: stats and sticky', () => {
    it('writes a batch atomically, skipping rows of unknown clients, and returns the latest stats per client', async () => {
      await lb().upsertClient(client('a'));
      await lb().upsertClient(client('b'));
      await lb().writeBatch({
        stats: [stats('a', 2000), stats('a', 3000, { cpuUsage: [1, 2], gpus: [{ deviceId: 0, name: 'H200', utilizationPct: 50, memoryUsedGb: 10, memoryTotalGb: 141 }] }), stats('b', 2500), stats('ghost', 2000)],
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
      expect(await lb().countStats()).toBe(3);
      expect(await lb().countStats('a')).toBe(2);
      const latest = await lb().latestStats();
      expect(latest.map((s) => [s.clientId, s.timestamp, s.cpuUsage])).toEqual([
        ['a', 3000, [1, 2]],
        ['b', 2500, [10, 20.5, 30, 40]],
      ]);
      expect(latest[0]!.gpus).toEqual([{ deviceId: 0, name: 'H200', utilizationPct: 50, memoryUsedGb: 10, memoryTotalGb: 141 }]);
      const clients = await lb().listClients();
      expect(clients[0]).toMatchObject({ lastSeen: 3100, lat: 52.37, lon: 4.89 });
      // last_seen never goes backwards.
      expect(clients[1]?.lastSeen).toBe(1000);
      expect(await lb().listSticky()).toEqual([{ stickyId: 's1', tier: 'small', clientId: 'a', createdAt: 10, lastUsed: 20 }]);
    });

    it('a sticky assignment is keyed by (sticky id, tier): setting it again moves it, deleting one tier keeps the other', async () => {
      await lb().upsertClient(client('a'));
      await lb().upsertClient(client('b'));
      const set = (stickyId: string, tier: string, clientId: string, at: number) =>
        ({ type: 'set', assignment: { stickyId, tier, clientId, createdAt: at, lastUsed: at } }) as const;
      await lb().writeBatch({ stats: [], touches: [], sticky: [set('s', 'small', 'a', 1), set('s', 'large', 'a', 1)] });
      await lb().writeBatch({ stats: [], touches: [], sticky: [set('s', 'small', 'b', 5), { type: 'delete', stickyId: 's', tier: 'large' }] });
      expect(await lb().listSticky()).toEqual([{ stickyId: 's', tier: 'small', clientId: 'b', createdAt: 5, lastUsed: 5 }]);
    });

    it('one winner per (sticky id, tier): a claim or move that does not match the stored row loses and returns the row held', async () => {
      for (const id of ['a', 'b', 'c']) await lb().upsertClient(client(id));
      const claim = (stickyId: string, clientId: string, at: number, prev: string | null, lastUsed = at) =>
        ({ type: 'set', assignment: { stickyId, tier: 'small', clientId, createdAt: at, lastUsed }, prev }) as const;
      // first claims win; a second claim of the same key from a writer that saw nothing loses
      expect(await lb().writeBatch({ stats: [], touches: [], sticky: [claim('s1', 'a', 10, null), claim('s2', 'b', 10, null)] })).toEqual({ adopted: [] });
      expect(await lb().writeBatch({ stats: [], touches: [], sticky: [claim('s1', 'b', 11, null), claim('s3', 'c', 11, null)] })).toEqual({
        adopted: [{ stickyId: 's1', tier: 'small', clientId: 'a', createdAt: 10, lastUsed: 10 }],
      });
      // a refresh of the held backend keeps created_at and only moves last_used forward
      expect(await lb().writeBatch({ stats: [], touches: [], sticky: [claim('s1', 'a', 10, 'a', 30), claim('s2', 'b', 10, 'b', 5)] })).toEqual({ adopted: [] });
      // a move from the backend still held wins; a move from one no longer held loses to the row
      expect(await lb().writeBatch({ stats: [], touches: [], sticky: [claim('s2', 'c', 40, 'b'), claim('s3', 'a', 40, 'b')] })).toEqual({
        adopted: [{ stickyId: 's3', tier: 'small', clientId: 'c', createdAt: 11, lastUsed: 11 }],
      });
      // a delete of a backend no longer held keeps the row; of the held one removes it
      await lb().writeBatch({ stats: [], touches: [], sticky: [{ type: 'delete', stickyId: 's3', tier: 'small', clientId: 'a' }] });
      expect((await lb().listSticky()).map((x) => [x.stickyId, x.clientId, x.createdAt, x.lastUsed])).toEqual([
        ['s1', 'a', 10, 30],
        ['s2', 'c', 40, 40],
        ['s3', 'c', 11, 11],
      ]);
      await lb().writeBatch({ stats: [], touches: [], sticky: [{ type: 'delete', stickyId: 's3', tier: 'small', clientId: 'c' }] });
      expect((await lb().listSticky()).map((x) => x.stickyId)).toEqual(['s1', 's2']);
    });
  });

  describe('lb: retention', () => {
    it('deletes stats in bounded batches by age only (a row at the cutoff is kept)', async () => {
      const now = 100 * DAY;
      await lb().upsertClient(client('a'));
      const rows: LbStats[] = [];
      for (let i = 0; i < 25; i++) rows.push(stats('a', now - 10 * DAY + i));
      for (let i = 0; i < 5; i++) rows.push(stats('a', now - DAY + i));
      rows.push(stats('a', now - 7 * DAY));
      await lb().writeBatch({ stats: rows, touches: [], sticky: [] });
      const cutoff = now - 7 * DAY;
      expect(await lb().deleteStatsBefore(cutoff, 10)).toBe(10);
      expect(await lb().deleteStatsBefore(cutoff, 10)).toBe(10);
      expect(await lb().deleteStatsBefore(cutoff, 10)).toBe(5);
      expect(await lb().deleteStatsBefore(cutoff, 10)).toBe(0);
      expect(await lb().countStats('a')).toBe(6);
      expect((await lb().listClients()).map((c) => c.clientId)).toEqual(['a']);
    });
  });
}
