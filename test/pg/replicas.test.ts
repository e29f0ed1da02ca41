/**
 * Three real `vantage server` processes on one PostgreSQL database: load-balancer state across replicas, and
 * leader failover after SIGKILL with next_due_at continuity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { openStore, type OpenedStore } from '../../src/store/index.js';
import { spec } from '../store/contract/fixtures.js';
import { waitFor } from '../monitoring/helpers.js';
import { sql, startCluster, type Cluster } from './cluster.js';
import { http, startReplica, type Replica } from './replicas.js';
import { EXPECTED_MIGRATIONS } from './migrations-expected.js';

let cluster: Cluster;
let url: string;
let replicas: Replica[] = [];
let store: OpenedStore;

const LEADS = 'acquired the leader lock';

function registration(id: string, lat: number) {
  return {
    client_id: id,
    hostname: `${id}.test`,
    public_ip: '203.0.113.10',
    latitude: lat,
    longitude: 4.9,
    country: 'NL',
    city: 'Amsterdam',
    total_cpu: 8,
    total_memory_gb: 32,
    total_storage_gb: 500,
    endpoint_url: `http://127.0.0.1:9/${id}`,
  };
}
function statsReport(id: string, cpu: number) {
  return {
    client_id: id,
    hostname: `${id}.test`,
    timestamp: new Date().toISOString(),
    cpu_cores: 8,
    cpu_usage_avg: Array.from({ length: 8 }, () => cpu),
    memory_total_gb: 32,
    memory_used_gb: 8,
    memory_avail_gb: 24,
    disk_total_gb: 500,
    disk_used_gb: 100,
    disk_avail_gb: 400,
  };
}

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('replicas');
  // all three start at the same moment on an empty database (migrations run once, under the advisory lock)
  replicas = await Promise.all(['a', 'b', 'c'].map((name) => startReplica({ name, database: url, args: ['--health-check-enabled', 'false'] })));
  for (const r of replicas) await waitFor(async () => (await http(`${r.url}/health`)).status === 200, { timeoutMs: 30_000, intervalMs: 50, what: `${r.name} healthy` });
  store = await openStore({ database: url, db_max_open_conns: 4 });
});
afterAll(async () => {
  await store?.close();
  await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
  await cluster?.destroy();
});

const q = <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => sql<T>(url, text, params);

describe('three replicas on one database', () => {
  it('migrated once although all three started together', async () => {
    expect(await q('SELECT component, version FROM schema_migrations ORDER BY 1, 2')).toEqual(EXPECTED_MIGRATIONS);
  });

  it('a backend registered and reporting on A is routable on B and C within 1 s', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    expect((await http(`${a.url}/register`, { body: registration('be-1', 52.3) })).status).toBe(200);
    expect((await http(`${a.url}/stats`, { body: statsReport('be-1', 10) })).status).toBe(200);
    const t0 = Date.now();
    for (const r of [b, c]) {
      const routed = await waitFor(
        async () => {
          const res = await http(`${r.url}/route`, { body: { tier: 'small', client_ip: '203.0.113.99' } });
          return res.status === 200 ? res : null;
        },
        { timeoutMs: 1_000, intervalMs: 20, what: `/route on ${r.name}` },
      );
      expect(routed.body).toMatchObject({ client_id: 'be-1' });
    }
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('one sticky id routed through A, B and C lands on one backend (the database holds the one assignment)', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    // a second backend, less loaded as seen from B and C only after the fan-out
    await http(`${a.url}/register`, { body: registration('be-2', 52.3) });
    await http(`${a.url}/stats`, { body: statsReport('be-2', 5) });
    await waitFor(async () => ((await http(`${c.url}/clients`)).body as unknown[]).length === 2, { timeoutMs: 2_000, what: 'be-2 on C' });
    const route = (r: Replica) => http(`${r.url}/route`, { body: { tier: 'small', client_ip: '203.0.113.99', sticky_id: 'session-42' } });
    const first = await route(a);
    expect(first.status).toBe(200);
    const chosen = (first.body as { client_id: string }).client_id;
    await waitFor(async () => (await q('SELECT client_id FROM sticky_assignments WHERE sticky_id = $1', ['session-42'])).length === 1, {
      timeoutMs: 2_000,
      what: 'the sticky assignment in the database',
    });
    // make the other backend clearly better: a replica that did not follow the assignment would move the session
    const other = chosen === 'be-1' ? 'be-2' : 'be-1';
    await http(`${b.url}/stats`, { body: statsReport(other, 0) });
    await http(`${b.url}/stats`, { body: statsReport(chosen, 60) }); // worse, still below the 80 % availability line
    for (const r of [b, c, a, b, c]) {
      const res = await route(r);
      expect(res.status).toBe(200);
      expect((res.body as { client_id: string }).client_id).toBe(chosen);
    }
    expect(await q('SELECT client_id FROM sticky_assignments WHERE sticky_id = $1', ['session-42'])).toEqual([{ client_id: chosen }]);
  });

  it('SIGKILL of the leader: another replica leads within 10 s, and every monitor keeps its cadence (no run twice, none skipped)', async () => {
    const leaders = () => replicas.filter((r) => r.output().includes(LEADS) && r.proc.exitCode === null && r.proc.signalCode === null);
    await waitFor(() => leaders().length === 1, { timeoutMs: 10_000, what: 'one leader' });
    const interval = 2_000;
    const now = Date.now();
    for (let i = 0; i < 20; i++) {
      await store.monitoring.createMonitor(spec({ interval_ms: interval, regions: ['global'] }), { id: `mon-${i}`, actor: 'test', now, jitterSeed: i });
    }
    await waitFor(async () => (await q<{ n: string }>('SELECT count(DISTINCT monitor_id) AS n FROM jobs'))[0]!.n === '20', { timeoutMs: 10_000, what: 'jobs of every monitor' });
    const leader = leaders()[0]!;
    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    const next = await waitFor(() => replicas.find((r) => r !== leader && r.output().includes(LEADS)) ?? null, { timeoutMs: 10_000, intervalMs: 20, what: 'a new leader' });
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).toBeLessThan(10_000);
    expect(next).toBeDefined();
    // the new leader schedules on: wait until every monitor has runs well past what the killed leader had
    // planned (its look-ahead was 5 s)
    const horizon = killedAt + 12_000;
    await waitFor(async () => (await q<{ n: string }>('SELECT count(*) AS n FROM monitors WHERE next_due_at < $1', [horizon]))[0]!.n === '0', {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'scheduling past the failover',
    });
    const rows = await q<{ monitor_id: string; slots: string[] }>(
      'SELECT monitor_id, array_agg(scheduled_at ORDER BY scheduled_at) AS slots FROM jobs GROUP BY monitor_id ORDER BY monitor_id',
    );
    expect(rows).toHaveLength(20);
    for (const r of rows) {
      const slots = r.slots.map(Number);
      expect(new Set(slots).size).toBe(slots.length);
      for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBe(interval);
      expect(slots[slots.length - 1]!).toBeGreaterThan(killedAt + 6_000);
    }
    const m = (await q<{ next_due_at: string }>('SELECT next_due_at FROM monitors WHERE id = $1', ['mon-0']))[0]!;
    expect(Number(m.next_due_at) - Number(rows[0]!.slots.map(Number).at(-1))).toBe(interval);
    replicas = replicas.filter((r) => r !== leader);
  });
});
