/**
 * Ingest on PostgreSQL as one statement per batch, with monitor_latest kept by a statement trigger: each
 * monitor's latest row is its newest result whatever the order inside or across batches, concurrent batches
 * that share monitors neither deadlock nor lose a result, and the first results of a new day from many batches
 * at once create its partition without an error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type OpenedStore } from '../../src/store/index.js';
import { dayOf, partitionName } from '../../src/store/postgres/results.js';
import { result, seedJobs } from '../store/contract/fixtures.js';
import { sql, startCluster, type Cluster } from './cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});

const DAY = 86_400_000;
const NOW = Date.UTC(2031, 4, 1, 12);

type Latest = { monitor_id: string; status: string; event_at: number };
const latest = (url: string) =>
  sql<Latest>(url, 'SELECT monitor_id, status, event_at::float8 AS event_at FROM monitor_latest ORDER BY monitor_id COLLATE "C"');

describe('PostgreSQL ingest batches', () => {
  let url: string;
  let stores: OpenedStore[];
  beforeAll(async () => {
    url = await cluster.createDatabase('ingest');
    stores = await Promise.all([0, 1, 2].map(() => openStore({ database: url }, { now: () => NOW })));
  });
  afterAll(async () => {
    await Promise.all((stores ?? []).map((s) => s.close()));
  });

  it('one batch: each monitor keeps its newest result whatever the order; on an equal instant the failing one', async () => {
    const m = stores[0]!.monitoring;
    const t = NOW - 60_000;
    await seedJobs(m, { monitorId: 'order-a', runs: [t, t + 1_000, t + 2_000], now: NOW });
    await seedJobs(m, { monitorId: 'order-b', runs: [t], now: NOW, spec: { regions: ['eu', 'us'] } });
    const jobs = [
      ...(await m.leaseJobs({ workerId: 'w', region: 'global', count: 10, now: NOW, leadMs: 0, leaseMs: 60_000 })),
      ...(await m.leaseJobs({ workerId: 'w', region: 'eu', count: 10, now: NOW, leadMs: 0, leaseMs: 60_000 })),
      ...(await m.leaseJobs({ workerId: 'w', region: 'us', count: 10, now: NOW, leadMs: 0, leaseMs: 60_000 })),
    ];
    expect(jobs).toHaveLength(5);
    // newest first in the batch, and b's two regions at one instant (eu up, us down)
    const items = [...jobs]
      .sort((x, y) => y.scheduled_at - x.scheduled_at)
      .map((j) => ({ workerId: 'w', result: result(j.run_id, j.scheduled_at, j.region === 'us' ? { status: 'down', error: 'refused', error_class: 'connect' } : {}) }));
    expect(await m.ingestResults(items, NOW)).toEqual(items.map(() => 'stored'));
    expect(await latest(url)).toEqual([
      { monitor_id: 'order-a', status: 'up', event_at: t + 2_000 },
      { monitor_id: 'order-b', status: 'down', event_at: t },
    ]);
    // an older result arriving later changes nothing
    await seedJobs(m, { monitorId: 'order-a', runs: [t - 5_000], now: NOW });
    const [old] = await m.leaseJobs({ workerId: 'w', region: 'global', count: 1, now: NOW, leadMs: 0, leaseMs: 60_000 });
    expect(await m.ingestResults([{ workerId: 'w', result: result(old!.run_id, old!.scheduled_at, { status: 'down' }) }], NOW)).toEqual(['stored']);
    expect((await latest(url)).find((r) => r.monitor_id === 'order-a')).toEqual({ monitor_id: 'order-a', status: 'up', event_at: t + 2_000 });
    // a repeat is told apart from a lost lease, and stores nothing
    expect(await m.ingestResults([items[0]!, { workerId: 'other', result: items[1]!.result }], NOW)).toEqual(['duplicate', 'lease_lost']);
  });

  it('concurrent batches over three replicas that share monitors, on a day without a partition yet: all stored, no deadlock, newest wins', async () => {
    const day = dayOf(NOW) + 20; // far ahead of the partitions made at open
    const t0 = day * DAY + 3_600_000;
    const monitors = 40;
    const runsPer = 30;
    const m = stores[0]!.monitoring;
    for (let k = 0; k < monitors; k++) {
      await seedJobs(m, { monitorId: `share-${String(k).padStart(2, '0')}`, runs: Array.from({ length: runsPer }, (_, r) => t0 + r * 1_000 + k), now: t0 });
    }
    expect(await sql(url, `SELECT 1 FROM pg_class WHERE relname = $1`, [partitionName(day)])).toHaveLength(0);
    const workers = 12;
    // every worker holds runs of every monitor, so concurrent batches share all 40 monitors
    const held = await Promise.all(
      Array.from({ length: workers }, (_, w) =>
        stores[w % 3]!.monitoring.leaseJobs({ workerId: `w${w}`, region: 'global', count: 100, now: t0 + runsPer * 1_000, leadMs: 0, leaseMs: 600_000 }),
      ),
    );
    const all = held.flat();
    expect(new Set(all.map((j) => j.run_id)).size).toBe(monitors * runsPer);
    const outcomes = await Promise.all(
      held.map(async (jobs, w) => {
        const out: string[] = [];
        // three batches each, in a scrambled monitor order
        for (let i = 0; i < jobs.length; i += 34) {
          const batch = jobs.slice(i, i + 34).sort((a, b) => (a.run_id < b.run_id ? 1 : -1));
          out.push(...(await stores[w % 3]!.monitoring.ingestResults(batch.map((j) => ({ workerId: `w${w}`, result: result(j.run_id, j.scheduled_at) })), t0)));
        }
        return out;
      }),
    );
    expect(outcomes.flat().filter((o) => o !== 'stored')).toEqual([]);
    expect(await sql(url, `SELECT 1 FROM pg_class WHERE relname = $1`, [partitionName(day)])).toHaveLength(1);
    const rows = (await latest(url)).filter((r) => r.monitor_id.startsWith('share-'));
    expect(rows).toEqual(Array.from({ length: monitors }, (_, k) => ({ monitor_id: `share-${String(k).padStart(2, '0')}`, status: 'up', event_at: t0 + (runsPer - 1) * 1_000 + k })));
    const stored = await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM results_raw WHERE event_at >= $1', [t0]);
    expect(stored[0]!.n).toBe(monitors * runsPer);
    expect(await m.countJobs()).toMatchObject({ leased: 0 });
  });
});
