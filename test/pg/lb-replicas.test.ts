/**
 * Load-balancer correctness across three real `vantage server` processes on one PostgreSQL database:
 * - one sticky winner: many concurrent /route calls of the same sticky ids through all three replicas, each
 *   replica asked from a client location nearest to a different backend (so each would pick its own), name one
 *   backend per sticky id in every answer, the first ones included, and that backend is the database's row;
 * - a purge on one replica removes the backends on every replica within 1 s (a backend one replica still routes
 *   to stops being routable there), and purge-pending drops the reservations of every replica.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { waitFor } from '../monitoring/helpers.js';
import { sql, startCluster, type Cluster } from './cluster.js';
import { http, startReplica, type Replica } from './replicas.js';

let cluster: Cluster;
let url: string;
let replicas: Replica[] = [];

/** Three backends far apart: a client near one of them prefers it (distance is part of the score). */
const SITES = [
  { id: 'be-ams', lat: 52.37, lon: 4.9 },
  { id: 'be-syd', lat: -33.87, lon: 151.21 },
  { id: 'be-nyc', lat: 40.71, lon: -74.0 },
] as const;
const CORES = 64;

const registration = (id: string, lat: number, lon: number) => ({
  client_id: id,
  hostname: `${id}.test`,
  public_ip: '203.0.113.10',
  latitude: lat,
  longitude: lon,
  total_cpu: CORES,
  total_memory_gb: 512,
  total_storage_gb: 10_000,
  endpoint_url: `http://127.0.0.1:9/${id}`,
});
const statsReport = (id: string) => ({
  client_id: id,
  hostname: `${id}.test`,
  timestamp: new Date().toISOString(),
  cpu_cores: CORES,
  cpu_usage_avg: Array.from({ length: CORES }, () => 5),
  memory_total_gb: 512,
  memory_used_gb: 16,
  memory_avail_gb: 496,
  disk_total_gb: 10_000,
  disk_used_gb: 100,
  disk_avail_gb: 9_900,
});

const q = <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => sql<T>(url, text, params);
const clientIds = async (r: Replica) => ((await http(`${r.url}/clients`)).body as Array<{ client_id: string }>).map((c) => c.client_id);
const metric = async (r: Replica, name: string) => {
  const text = (await http(`${r.url}/metrics`)).body as string;
  const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
};

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('lbrep');
  // A judges backends stale after 1 minute, B and C after 5 (the purge test needs a backend A purges while B
  // and C still route to it)
  replicas = await Promise.all(
    [
      ['a', '1'],
      ['b', '5'],
      ['c', '5'],
    ].map(([name, stale]) => startReplica({ name: name!, database: url, args: ['--health-check-enabled', 'false', '--stale-minutes', stale!, '--rate-limit-per-minute', '1000000', '--rate-limit-burst', '1000000'] })),
  );
  for (const r of replicas) await waitFor(async () => (await http(`${r.url}/health`)).status === 200, { timeoutMs: 30_000, intervalMs: 50, what: `${r.name} healthy` });
}, 120_000);
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
  await cluster?.destroy();
});

describe('load-balancer state across three replicas', () => {
  it('concurrent first /route calls of one sticky id through A, B and C all name one backend: the database row', async () => {
    const [a] = replicas as [Replica, Replica, Replica];
    for (const s of SITES) {
      expect((await http(`${a.url}/register`, { body: registration(s.id, s.lat, s.lon) })).status).toBe(200);
      expect((await http(`${a.url}/stats`, { body: statsReport(s.id) })).status).toBe(200);
    }
    for (const r of replicas) {
      await waitFor(
        async () => ((await http(`${r.url}/clients`)).body as Array<{ stats_timestamp: string | null }>).filter((c) => c.stats_timestamp !== null).length === SITES.length,
        { timeoutMs: 5_000, what: `three backends with stats on ${r.name}` },
      );
    }
    // without a sticky id each replica routes a client near site i to backend i
    for (const [i, r] of replicas.entries()) {
      const res = await http(`${r.url}/route`, { body: { tier: 'small', client_lat: SITES[i]!.lat, client_lon: SITES[i]!.lon } });
      expect((res.body as { client_id: string }).client_id).toBe(SITES[i]!.id);
    }

    const IDS = 30;
    const PER_REPLICA = 4;
    const ask = (i: number, id: string) =>
      http(`${replicas[i]!.url}/route`, { body: { tier: 'small', sticky_id: id, client_lat: SITES[i]!.lat, client_lon: SITES[i]!.lon } });
    const ids = Array.from({ length: IDS }, (_, k) => `session-${k}`);
    // every call of every sticky id at once: replica i would pick backend i for all of them
    const wave = async () => {
      const calls = ids.flatMap((id) => replicas.flatMap((_, i) => Array.from({ length: PER_REPLICA }, () => ask(i, id).then((res) => ({ id, i, res })))));
      return Promise.all(calls);
    };
    const answers = [...(await wave()), ...(await wave())];
    const byId = new Map<string, Set<string>>();
    for (const { id, res } of answers) {
      expect(res.status).toBe(200);
      const set = byId.get(id) ?? new Set<string>();
      set.add((res.body as { client_id: string }).client_id);
      byId.set(id, set);
    }
    const rows = await q<{ sticky_id: string; client_id: string }>('SELECT sticky_id, client_id FROM sticky_assignments WHERE tier = $1', ['small']);
    const held = new Map(rows.map((r) => [r.sticky_id, r.client_id]));
    for (const id of ids) expect({ id, backends: [...byId.get(id)!] }).toEqual({ id, backends: [held.get(id)] });
    // the replicas did choose differently: the losers adopted the winner (at least once, usually for most ids)
    const adopted = (await Promise.all(replicas.map((r) => metric(r, 'vantage_sticky_adopted_total')))).reduce((x, y) => x + y, 0);
    expect(adopted).toBeGreaterThan(0);
    console.log(`one sticky winner: ${IDS} ids × ${answers.length / IDS} answers over 3 replicas; ${adopted} claims lost and adopted the winner`);
  }, 60_000);

  it('a purge on A removes the backends on B and C within 1 s, including one B and C still routed to', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    // a backend last seen 2 minutes ago: stale for A (1 min), active for B and C (5 min). Written straight to the
    // database and announced, as a replica does after a registration.
    const seen = Date.now() - 120_000;
    await q(
      `INSERT INTO clients (client_id, hostname, latitude, longitude, total_cpu, total_memory, total_storage, endpoint, created_at, last_seen)
       VALUES ('be-old', 'be-old.test', 48.85, 2.35, $1, 512, 10000, 'http://127.0.0.1:9/be-old', $2, $2)`,
      [CORES, seen],
    );
    await q(
      `INSERT INTO stats (client_id, timestamp, cpu_cores, cpu_usage_json, memory_total, memory_used, memory_avail, disk_total, disk_used, disk_avail)
       VALUES ('be-old', $1, $2, $3, 512, 1, 511, 10000, 1, 9999)`,
      [seen, CORES, JSON.stringify(Array.from({ length: CORES }, () => 0))],
    );
    await q(`SELECT pg_notify('vantage_lb', $1)`, [JSON.stringify({ origin: 'test', clients: ['be-old'], stats: ['be-old'] })]);
    for (const r of replicas) await waitFor(async () => (await clientIds(r)).includes('be-old'), { timeoutMs: 2_000, what: `be-old on ${r.name}` });
    // B routes a client next to it there (idle, and nearest); A does not (stale)
    const near = { tier: 'small', client_lat: 48.85, client_lon: 2.35 };
    expect(((await http(`${b.url}/route`, { body: near })).body as { client_id: string }).client_id).toBe('be-old');
    expect(((await http(`${a.url}/route`, { body: near })).body as { client_id: string }).client_id).not.toBe('be-old');

    const purged = await http(`${a.url}/clients/purge`, { method: 'POST' });
    expect(purged.body).toMatchObject({ status: 'ok', client_ids: ['be-old'] });
    const t0 = Date.now();
    for (const r of [b, c]) {
      await waitFor(async () => !(await clientIds(r)).includes('be-old'), { timeoutMs: 1_000, intervalMs: 20, what: `be-old gone from ${r.name}` });
    }
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(((await http(`${b.url}/route`, { body: near })).body as { client_id: string }).client_id).not.toBe('be-old');
    expect(await q('SELECT 1 FROM clients WHERE client_id = $1', ['be-old'])).toEqual([]);
  });

  it('purge-pending on A drops the reservations held on B and C', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const pending = async (r: Replica) =>
      ((await http(`${r.url}/clients`)).body as Array<{ pending: { reservations: number } }>).reduce((n, x) => n + x.pending.reservations, 0);
    for (const r of [b, c]) expect((await http(`${r.url}/route`, { body: { tier: 'small' } })).status).toBe(200);
    expect(await pending(b)).toBeGreaterThan(0);
    expect(await pending(c)).toBeGreaterThan(0);
    expect((await http(`${a.url}/clients/purge-pending`, { method: 'POST' })).status).toBe(200);
    for (const r of [b, c]) await waitFor(async () => (await pending(r)) === 0, { timeoutMs: 1_000, intervalMs: 20, what: `no reservations on ${r.name}` });
  });
});
