/**
 * The reverse proxy's sticky sessions across three real `vantage server` processes on one PostgreSQL database:
 * a new session's first proxied requests, sent through A, B and C at once, all reach one backend, the one the
 * database holds. Each replica locates the client (loopback) in a different city through its own GeoIP file, so
 * each would pick its nearest backend: without the commit-and-adopt step before the request goes out, the first
 * request on a losing replica reaches that replica's own pick.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cityRecord, writeMmdb } from '../agent/mmdb-writer.js';
import { waitFor } from '../monitoring/helpers.js';
import { sql, startCluster, type Cluster } from './cluster.js';
import { http as api, startReplica, type Replica } from './replicas.js';

const SITES = [
  { id: 'be-ams', lat: 52.37, lon: 4.9, city: 'Amsterdam', country: 'Netherlands', iso: 'NL' },
  { id: 'be-syd', lat: -33.87, lon: 151.21, city: 'Sydney', country: 'Australia', iso: 'AU' },
  { id: 'be-nyc', lat: 40.71, lon: -74.0, city: 'New York', country: 'United States', iso: 'US' },
] as const;
const CORES = 64;

let cluster: Cluster;
let url: string;
let dir: string;
let replicas: Replica[] = [];
const backends: http.Server[] = [];

/** One proxied GET with a session header; resolves with the backend that answered. */
function get(r: Replica, session: string): Promise<{ status: number; backend: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${r.url}/app/x`, { headers: { 'x-session-id': session }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: res.headers['x-backend'] === undefined ? body : String(res.headers['x-backend']) }));
    });
    req.on('error', reject);
  });
}

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('proxysticky');
  dir = mkdtempSync(join(tmpdir(), 'vantage-proxy-sticky-'));
  const ports: number[] = [];
  for (const s of SITES) {
    const srv = http.createServer((_req, res) => res.writeHead(200, { 'x-backend': s.id }).end(s.id));
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
    backends.push(srv);
    ports.push((srv.address() as AddressInfo).port);
  }
  replicas = await Promise.all(
    ['a', 'b', 'c'].map((name, i) => {
      // replica i believes the loopback client is in SITES[i]'s city
      const mmdb = join(dir, `${name}.mmdb`);
      const s = SITES[i]!;
      writeMmdb(mmdb, [{ cidr: '127.0.0.0/8', data: cityRecord({ lat: s.lat, lon: s.lon, city: s.city, country: s.country, iso: s.iso }) }]);
      const cfg = join(dir, `${name}.yml`);
      writeFileSync(cfg, stringify({ proxy_endpoints: ['/app'], sticky_header: 'X-Session-ID', geoip_db_path: mmdb, health_check_enabled: false, rate_limit_per_minute: 1_000_000, rate_limit_burst: 1_000_000 }));
      return startReplica({ name, database: url, args: ['--config', cfg] });
    }),
  );
  for (const r of replicas) await waitFor(async () => (await api(`${r.url}/health`)).status === 200, { timeoutMs: 30_000, intervalMs: 50, what: `${r.name} healthy` });
  const [a] = replicas as [Replica];
  for (const [i, s] of SITES.entries()) {
    const reg = { client_id: s.id, hostname: `${s.id}.test`, public_ip: '203.0.113.10', latitude: s.lat, longitude: s.lon, total_cpu: CORES, total_memory_gb: 512, total_storage_gb: 10_000, endpoint_url: `http://127.0.0.1:${ports[i]}` };
    expect((await api(`${a.url}/register`, { body: reg })).status).toBe(200);
    const stats = { client_id: s.id, hostname: `${s.id}.test`, timestamp: new Date().toISOString(), cpu_cores: CORES, cpu_usage_avg: Array.from({ length: CORES }, () => 5), memory_total_gb: 512, memory_used_gb: 16, memory_avail_gb: 496, disk_total_gb: 10_000, disk_used_gb: 100, disk_avail_gb: 9_900 };
    expect((await api(`${a.url}/stats`, { body: stats })).status).toBe(200);
  }
  for (const r of replicas) {
    await waitFor(async () => ((await api(`${r.url}/clients`)).body as Array<{ stats_timestamp: string | null }>).filter((c) => c.stats_timestamp !== null).length === SITES.length, {
      timeoutMs: 5_000,
      what: `three backends with stats on ${r.name}`,
    });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
  for (const b of backends) b.close();
  await cluster?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('reverse proxy sticky sessions across three replicas', () => {
  it('each replica, without a session, proxies the loopback client to the backend its GeoIP file puts nearest', async () => {
    for (const [i, r] of replicas.entries()) {
      const res = await get(r, '');
      expect(res).toEqual({ status: 200, backend: SITES[i]!.id });
    }
  });

  it('the first proxied requests of new sessions through A, B and C at once all reach the database\'s one backend', async () => {
    const ids = Array.from({ length: 20 }, (_, k) => `proxy-session-${k}`);
    const answers = await Promise.all(ids.flatMap((id) => replicas.flatMap((r) => [0, 1].map(() => get(r, id).then((res) => ({ id, res }))))));
    const rows = await sql<{ sticky_id: string; client_id: string }>(url, 'SELECT sticky_id, client_id FROM sticky_assignments WHERE sticky_id LIKE $1', ['proxy-session-%']);
    const held = new Map(rows.map((r) => [r.sticky_id, r.client_id]));
    expect(held.size).toBe(ids.length);
    const byId = new Map<string, Set<string>>();
    for (const { id, res } of answers) {
      expect(res.status).toBe(200);
      byId.set(id, (byId.get(id) ?? new Set()).add(res.backend));
    }
    for (const id of ids) expect({ id, backends: [...byId.get(id)!] }).toEqual({ id, backends: [held.get(id)] });
    // the replicas did pick differently: sessions were won by more than one replica's nearest backend, or at
    // least one claim lost and adopted another replica's winner
    const text = await Promise.all(replicas.map(async (r) => (await api(`${r.url}/metrics`)).body as string));
    const adopted = text.map((t) => Number(/^vantage_sticky_adopted_total (\d+)/m.exec(t)?.[1] ?? 0)).reduce((x, y) => x + y, 0);
    expect(adopted).toBeGreaterThan(0);
  }, 60_000);
});
