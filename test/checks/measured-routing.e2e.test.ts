/**
 * Routing by measured latency, end to end with real processes: `vantage server` with
 * routing_distance: measured, two agents in two regions (each the reporter of one backend and a
 * monitoring worker of its region), and latency injected on one backend's path from one region only:
 * backend Y sits behind a local HTTP proxy that delays the probes of region "west" (told apart by the
 * X-Vantage-Probe-Region header the probes send). A client of region west near Y is routed to Y while
 * nothing is measured (haversine), and to X once west's probes have measured Y's path as slow.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/fake-worker-api.js';
import { startHttp, type Running } from './helpers/servers.js';
import { agentKeys, freePort, startAgentProcess, startServerProcess, tempDir, type AgentProc, type ServerProc } from './helpers/system.js';

const DELAY_MS = 300;
const WEST = { lat: 0, lon: 0 };
const EAST = { lat: 0, lon: 10 };
// In region west by name, but next to backend Y (east) on the map.
const CLIENT = { client_region: 'west', client_lat: 0, client_lon: 9.5 };

let backendX: Running;
let backendY: Running;
let proxyY: Running;
let s: ServerProc;
const agents: AgentProc[] = [];
const dir = tempDir('vantage-measured-');

const ok = (_req: IncomingMessage, res: ServerResponse): void => {
  res.end('ok');
};

/** Forwards to backend Y; answers probes from region west DELAY_MS late. */
function delayingProxy(req: IncomingMessage, res: ServerResponse): void {
  const forward = (): void => {
    const up = httpRequest({ host: '127.0.0.1', port: backendY.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  if (req.headers['x-vantage-probe-region'] === 'west') setTimeout(forward, DELAY_MS);
  else forward();
}

async function api(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${s.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

interface MatrixRow {
  region: string;
  client_id: string;
  rtt_ms: number;
  samples: number;
}
const matrix = async (): Promise<MatrixRow[]> => (await api('/latency')).json.matrix as MatrixRow[];

beforeAll(async () => {
  backendX = await startHttp(ok);
  backendY = await startHttp(ok);
  proxyY = await startHttp(delayingProxy);
  s = await startServerProcess(dir.path, {
    server_key: 'k',
    database: join(dir.path, 'v.db'),
    worker_port: await freePort(),
    routing_distance: 'measured',
    region_probe_interval_seconds: 1,
    health_check_type: 'http',
    health_check_path: '/health',
    // No resource needs: the decision must turn on distance alone, not on how busy this machine is.
    tiers: [{ name: 'any', vcpu: 0, memory_gb: 0, storage_gb: 0 }],
  });
  const agent = (name: string, region: string, loc: { lat: number; lon: number }, endpoint: string): AgentProc => {
    const a = startAgentProcess({
      ...agentKeys(s, dir.path, name),
      region,
      latitude: loc.lat,
      longitude: loc.lon,
      endpoint_url: endpoint,
      report_interval_seconds: 1,
      stats_every_ms: 100,
    });
    agents.push(a);
    return a;
  };
  agent('x', 'west', WEST, `http://127.0.0.1:${backendX.port}`);
  agent('y', 'east', EAST, `http://127.0.0.1:${proxyY.port}`);
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.kill();
  await s?.kill();
  await Promise.all([backendX?.close(), backendY?.close(), proxyY?.close()]);
  dir.remove();
});

describe('routing_distance: measured (real server, two agents in two regions)', () => {
  it('moves region west’s requests off the backend whose path from west is slow, where haversine keeps it', async () => {
    // Both backends registered and reporting stats.
    await waitFor(() => agents.every((a) => a.lastStats()?.stats.connected === true), 'agents connected', 30_000);
    let first: Record<string, unknown> = {};
    await expect
      .poll(async () => {
        first = (await api('/route?explain=1', CLIENT)).json;
        return ((first.backends as { eligible: boolean }[] | undefined) ?? []).filter((b) => b.eligible).length;
      }, { timeout: 30_000, interval: 200 })
      .toBe(2);
    const rows0 = first.backends as { client_id: string; distance: { haversine_km: number } }[];
    const hav = (id: string): number => rows0.find((r) => r.client_id === id)!.distance.haversine_km;
    expect(hav('y')).toBeLessThan(hav('x'));

    // Each region's workers probe each backend; west sees Y's path DELAY_MS slow.
    await expect
      .poll(async () => {
        const m = await matrix();
        const get = (region: string, id: string) => m.find((e) => e.region === region && e.client_id === id);
        return ['west', 'east'].every((r) => ['x', 'y'].every((id) => (get(r, id)?.samples ?? 0) >= 2));
      }, { timeout: 45_000, interval: 250 })
      .toBe(true);
    const m = await matrix();
    const rtt = (region: string, id: string): number => m.find((e) => e.region === region && e.client_id === id)!.rtt_ms;
    expect(rtt('west', 'y')).toBeGreaterThanOrEqual(DELAY_MS * 0.9);
    expect(rtt('east', 'y')).toBeLessThan(DELAY_MS / 2);

    // West's request now goes to X; the explain output says why.
    const routed = await api('/route', CLIENT);
    expect(routed.status).toBe(200);
    expect(routed.json.client_id).toBe('x');
    const ex = (await api('/route?explain=1', CLIENT)).json;
    expect(ex.routing_distance).toBe('measured');
    expect(ex.region).toBe('west');
    const y = (ex.backends as { client_id: string; distance: Record<string, unknown> }[]).find((r) => r.client_id === 'y')!;
    expect(y.distance.source).toBe('measured');
    expect(y.distance.measured_rtt_ms as number).toBeGreaterThanOrEqual(DELAY_MS * 0.9);
    expect(typeof y.distance.measured_age_ms).toBe('number');
    // Scored by great-circle distance instead, the same rows would pick Y (55 km away, not 1 056 km).
    type Row = { client_id: string; score: { total: number; distance_km: number }; distance: { haversine_km: number } };
    const byHaversine = (r: Row): number => r.score.total - r.score.distance_km + r.distance.haversine_km;
    const [hx, hy] = ['x', 'y'].map((id) => byHaversine((ex.backends as Row[]).find((r) => r.client_id === id)!));
    expect(hy!).toBeLessThan(hx!);
    // From region east the path to Y is fast: its measured distance there is the short one.
    const exEast = (await api('/route?explain=1', { ...CLIENT, client_region: 'east' })).json;
    const yEast = (exEast.backends as { client_id: string; score: { distance_km: number } }[]).find((r) => r.client_id === 'y')!;
    expect(yEast.score.distance_km).toBeLessThan((DELAY_MS / 2) * 100);
    // The header names the region as well as the field.
    const viaHeader = await fetch(`${s.url}/route`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json', 'x-client-region': 'west' },
      body: JSON.stringify({ client_lat: CLIENT.client_lat, client_lon: CLIENT.client_lon }),
    });
    expect(((await viaHeader.json()) as Record<string, unknown>).client_id).toBe('x');

    // The probes are system monitors: not in the user's list; /clients shows the matrix per backend.
    const listed = await s.monitors.listMonitors({ limit: 100 });
    expect(listed.monitors).toEqual([]);
    const clients = (await (await fetch(`${s.url}/clients`, { headers: { 'x-api-key': 'k' } })).json()) as { client_id: string; measured_rtt: { region: string }[] }[];
    expect(clients.find((c) => c.client_id === 'y')!.measured_rtt.map((e) => e.region)).toEqual(['east', 'west']);
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: { 'x-api-key': 'k' } })).text();
    expect(metrics).toMatch(/vantage_backend_rtt_ms\{region="west",client_id="y"\} \d/);
    // A bad region is a 400 naming the field.
    const bad = await api('/route', { ...CLIENT, client_region: '../x' });
    expect(bad.status).toBe(400);
    expect(String(bad.json.error)).toMatch(/client_region/);
  }, 120_000);
});
