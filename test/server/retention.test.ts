import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pruneStats } from '../../src/lb/retention.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import type { LbStats } from '../../src/store/lb.js';
import { tempDir } from './helpers.js';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;

const stats = (id: string, ts: number): LbStats => ({
  clientId: id,
  timestamp: ts,
  cpuUsage: [5],
  memoryTotalGb: 1,
  memoryUsedGb: 0.5,
  memoryAvailGb: 0.5,
  diskTotalGb: 1,
  diskUsedGb: 0,
  diskAvailGb: 1,
  gpus: [],
});

describe('pruneStats (real SQLite store)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: OpenedStore;
  beforeEach(async () => {
    tmp = tempDir('vantage-ret-');
    store = openSqliteStore(`${tmp.dir}/r.db`);
    for (const id of ['a', 'b']) {
      await store.lb.upsertClient({
        clientId: id, hostname: id, endpoint: 'http://x:1', publicIp: null, localIp: null, lat: null, lon: null,
        country: null, city: null, totalCpu: 1, totalMemoryGb: 1, totalStorageGb: 1, totalGpus: 0, gpuModels: [],
        endpoints: [], createdAt: NOW - 30 * DAY, lastSeen: NOW - 30 * DAY,
      });
    }
  });
  afterEach(() => {
    store.close();
    tmp.cleanup();
  });

  it('deletes exactly the rows older than the retention period, batch by batch, yielding in between', async () => {
    const rows: LbStats[] = [];
    for (let i = 0; i < 1234; i++) rows.push(stats(i % 2 ? 'a' : 'b', NOW - 8 * DAY - i));
    rows.push(stats('a', NOW - 7 * DAY)); // exactly at the cutoff: kept
    rows.push(stats('a', NOW - DAY), stats('b', NOW));
    await store.lb.writeBatch({
      stats: rows,
      touches: [],
      sticky: [{ type: 'set', assignment: { stickyId: 's', tier: 't', clientId: 'a', createdAt: NOW - 20 * DAY, lastUsed: NOW - 20 * DAY } }],
    });
    let yields = 0;
    const deleted = await pruneStats({
      store: store.lb,
      now: () => NOW,
      retentionMs: 7 * DAY,
      batchSize: 100,
      yieldFn: async () => void yields++,
    });
    expect(deleted).toBe(1234);
    expect(yields).toBe(12);
    expect(await store.lb.countStats()).toBe(3);
    expect((await store.lb.listClients()).map((c) => c.clientId)).toEqual(['a', 'b']);
    expect(await store.lb.listSticky()).toHaveLength(1);
    expect(await pruneStats({ store: store.lb, now: () => NOW, retentionMs: 7 * DAY })).toBe(0);
  });
});
