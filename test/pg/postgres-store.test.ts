/**
 * What is specific to the PostgreSQL store (the shared behaviour is the contract suite): migrations once under
 * an advisory lock, results_raw partitioned by day with partitions ahead and retention by dropping partitions,
 * and the pool keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type OpenedStore } from '../../src/store/index.js';
import { partitionName, dayOf } from '../../src/store/postgres/results.js';
import { result, seedLeasedJobs } from '../store/contract/fixtures.js';
import { waitFor } from '../monitoring/helpers.js';
import { sql, startCluster, type Cluster } from './cluster.js';
import { EXPECTED_MIGRATIONS } from './migrations-expected.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});


const DAY = 86_400_000;

describe('PostgreSQL store: migrations', () => {
  it('three openStore calls at the same moment on an empty database migrate once, and all three work', async () => {
    const url = await cluster.createDatabase('mig');
    const opened = await Promise.all([0, 1, 2].map(() => openStore({ database: url })));
    try {
      const rows = await sql<{ component: string; version: number; n: string }>(
        url,
        'SELECT component, version, count(*) AS n FROM schema_migrations GROUP BY component, version ORDER BY component, version',
      );
      // Each migration of each component applied exactly once.
      expect(rows).toEqual(EXPECTED_MIGRATIONS.map((m) => ({ ...m, n: '1' })));
      expect(rows.map((r) => r.component)).toEqual(expect.arrayContaining(['lb', 'monitoring', 'auth', 'pki', 'alerts', 'status', 'dashboard']));
      for (const s of opened) expect(await s.monitoring.countJobs()).toEqual({ ready: 0, leased: 0, done: 0 });
      // a later start finds nothing to apply
      const again = await openStore({ database: url });
      await again.close();
      expect(await sql(url, 'SELECT 1 FROM schema_migrations')).toHaveLength(EXPECTED_MIGRATIONS.length);
    } finally {
      await Promise.all(opened.map((s) => s.close()));
    }
  });
});

describe('PostgreSQL store: results partitioned by day', () => {
  let url: string;
  let store: OpenedStore;
  const now = Date.UTC(2030, 0, 10, 12);
  beforeAll(async () => {
    url = await cluster.createDatabase('parts');
    store = await openStore({ database: url }, { now: () => now });
  });
  afterAll(async () => {
    await store?.close();
  });

  const partitions = async () =>
    (
      await sql<{ name: string }>(
        url,
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'results_raw'::regclass ORDER BY 1`,
      )
    ).map((r) => r.name);

  it('results_raw is a declaratively partitioned table, with today and the next two days created at open', async () => {
    expect(await sql(url, `SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'results_raw'::regclass`)).toEqual([{ partstrat: 'r' }]);
    expect(await partitions()).toEqual(['results_raw_20300110', 'results_raw_20300111', 'results_raw_20300112']);
    expect(partitionName(dayOf(now))).toBe('results_raw_20300110');
  });

  it('a result for a day without a partition gets one; retention drops whole rolled-up partitions before the cutoff', async () => {
    const old = Date.UTC(2030, 0, 1, 8);
    const m = store.monitoring;
    const ids = await seedLeasedJobs(m, { monitorId: 'm', runs: [old, old + 60_000, now], now: old, workerId: 'w' });
    expect(await m.ingestResults(ids.map((id, i) => ({ workerId: 'w', result: result(id, [old, old + 60_000, now][i]!) })), now)).toEqual([
      'stored',
      'stored',
      'stored',
    ]);
    expect(await partitions()).toContain('results_raw_20300101');
    expect(await sql(url, 'SELECT count(*)::int AS n FROM results_raw_20300101')).toEqual([{ n: 2 }]);
    const cut = { resultsBefore: Date.UTC(2030, 0, 5), rollup1mBefore: 0, rollup1hBefore: 0, rollup1dBefore: 0, jobsBefore: 0 };
    // not rolled up yet: the partition stays
    expect((await m.deleteExpired(cut)).results).toBe(0);
    expect(await m.rollupPending(100)).toBe(3);
    expect((await m.deleteExpired(cut)).results).toBe(2);
    expect(await partitions()).not.toContain('results_raw_20300101');
    expect((await m.listResults({ monitorId: 'm', limit: 10 })).map((r) => r.event_at)).toEqual([now]);
    // a late result for the dropped day recreates its partition
    const [late] = await seedLeasedJobs(m, { monitorId: 'm2', runs: [old + DAY / 2], now: old, workerId: 'w' });
    expect(await m.ingestResults([{ workerId: 'w', result: result(late!, old + DAY / 2) }], now)).toEqual(['stored']);
    expect(await partitions()).toContain('results_raw_20300101');
  });
});

describe('PostgreSQL store: pool keys', () => {
  it('db_max_open_conns caps the connections; db_conn_max_lifetime retires them', async () => {
    const url = await cluster.createDatabase('pool');
    const store = await openStore({ database: url, db_max_open_conns: 3, db_max_idle_conns: 1, db_conn_max_lifetime: 1 });
    const db = new URL(url).pathname.slice(1);
    const backends = () =>
      sql<{ pid: number }>(url, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'vantage'`, [db]).then((r) =>
        r.map((x) => x.pid).sort(),
      );
    try {
      let most = 0;
      const load = Promise.all(Array.from({ length: 60 }, () => store.monitoring.countJobs()));
      const watch = (async () => {
        for (let i = 0; i < 20; i++) most = Math.max(most, (await backends()).length);
      })();
      await Promise.all([load, watch]);
      expect(most).toBeLessThanOrEqual(3);
      expect(most).toBeGreaterThan(0);
      const first = await backends();
      await waitFor(
        async () => {
          await store.monitoring.countJobs();
          const now = await backends();
          return now.length > 0 && now.every((p) => !first.includes(p));
        },
        { timeoutMs: 10_000, intervalMs: 100, what: 'pooled connections past their lifetime to be replaced' },
      );
    } finally {
      await store.close();
    }
  });
});
