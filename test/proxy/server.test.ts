import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { loadServerConfig } from '../../src/config/load.js';
import type { ServerConfig } from '../../src/config/server.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { listen, waitFor, type Started } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vantage-proxy-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let n = 0;
async function server(extra: Partial<ServerConfig>): Promise<RunningServer> {
  n++;
  const base = loadServerConfig({
    flags: { port: 0, host: '127.0.0.1', database: join(dir, `db${n}.sqlite`), monitoring_enabled: false },
  }).config;
  const s = await startServer({ ...base, ...extra }, { logger: pino({ level: 'silent' }) });
  cleanups.push(() => s.close({ timeoutMs: 1_000 }));
  return s;
}

async function backend(id: string): Promise<Started> {
  const s = await listen((req, res) => {
    if (req.url === '/health') return void res.end('ok');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id, url: req.url, auth: req.headers['x-api-key'] ?? null }));
  });
  cleanups.push(() => s.close());
  return s;
}

async function call(url: string, init: RequestInit = {}) {
  const r = await fetch(url, init);
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

/** Registers a backend and reports stats through the API, as an agent would. */
async function register(s: RunningServer, id: string, endpoint: string, key?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) };
  const reg = await call(`${s.url}/register`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      client_id: id, hostname: id, public_ip: '127.0.0.1', local_ip: '127.0.0.1', latitude: null, longitude: null, country: '', city: '',
      total_cpu: 4, total_memory_gb: 16, total_storage_gb: 100, endpoint_url: endpoint,
    }),
  });
  expect(reg.status).toBe(200);
  const st = await call(`${s.url}/stats`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      client_id: id, hostname: id, timestamp: new Date().toISOString(), cpu_cores: 4, cpu_usage_avg: [5, 5, 5, 5],
      memory_total_gb: 16, memory_used_gb: 4, memory_avail_gb: 12, disk_total_gb: 100, disk_used_gb: 10, disk_avail_gb: 90,
    }),
  });
  expect(st.status).toBe(200);
}

describe('proxy inside the Vantage server', () => {
  it('proxies "/*" but management paths always win; proxied traffic needs no API key', async () => {
    const be = await backend('B1');
    const s = await server({ proxy_endpoints: ['/*'], server_key: 'k'.repeat(32), health_check_enabled: false, proxy_backend_header: true });
    expect(s.proxy).not.toBeNull();
    await register(s, 'B1', be.url, 'k'.repeat(32));
    // management: /health is the server's, /clients needs the key
    const h = await call(`${s.url}/health`);
    expect(h.json()).toMatchObject({ status: 'healthy', total_clients: 1 });
    expect((await call(`${s.url}/clients`)).status).toBe(401);
    // everything else is proxied without a key, path and query intact
    const p = await call(`${s.url}/any/path?x=1&tier=small`);
    expect(p.status).toBe(200);
    expect(p.json()).toEqual({ id: 'B1', url: '/any/path?x=1&tier=small', auth: null });
    expect(p.headers.get('x-vantage-backend')).toBe('B1');
    // the proxied-traffic front added security headers
    expect(p.headers.get('x-content-type-options')).toBe('nosniff');
    // and a reservation of a non-sticky request does not outlive its response
    await waitFor(() => s.engine.counts().reservations === 0, 'reservation released');
    const ws = new WebSocket(`${s.url.replace('http:', 'ws:')}/clients`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    expect(status).toBe(400);
  });

  it('answers 404 outside the prefixes and proxies WebSockets under them', async () => {
    const be = await listen((_req, res) => res.end());
    const wss = new WebSocketServer({ server: be.server });
    wss.on('connection', (sock) => sock.on('message', (m) => sock.send(`echo:${m.toString()}`)));
    cleanups.push(async () => {
      wss.close();
      await be.close();
    });
    const s = await server({ proxy_endpoints: ['/api'], health_check_enabled: false });
    await register(s, 'W', be.url);
    expect((await call(`${s.url}/elsewhere`)).status).toBe(404);
    const ws = new WebSocket(`${s.url.replace('http:', 'ws:')}/api/socket`);
    const got = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('ping'));
      ws.on('message', (m) => resolve(m.toString()));
      ws.on('error', reject);
    });
    expect(got).toBe('echo:ping');
    ws.close();
    await waitFor(() => s.proxy!.inflight() === 0, 'tunnel closed');
  });

  it('runs the health checker: /clients shows health_status, latency_ms and last_health_check', async () => {
    const be = await backend('H');
    const s = await server({ health_check_enabled: true, health_check_type: 'http', health_check_interval_seconds: 3600 });
    await register(s, 'H', be.url);
    const before = (await call(`${s.url}/clients`)).json() as unknown as Array<Record<string, unknown>>;
    expect(before[0]).toMatchObject({ client_id: 'H', last_health_check: null });
    const t0 = Date.now();
    await s.health.checkNow();
    await s.health.checkNow();
    const clients = (await call(`${s.url}/clients`)).json() as unknown as Array<Record<string, unknown>>;
    expect(clients[0]).toMatchObject({ client_id: 'H', health_status: 'healthy', latency_ms: expect.any(Number) });
    expect(Date.parse(String(clients[0]!.last_health_check))).toBeGreaterThanOrEqual(t0 - 1);
    expect(s.health.snapshot('H')).toMatchObject({ status: 'healthy' });
  });

  it('drains in-flight proxied requests on close', async () => {
    const slow = await listen((_req, res) => void setTimeout(() => res.end('finished'), 300));
    cleanups.push(() => slow.close());
    const s = await server({ proxy_endpoints: ['/api'], health_check_enabled: false });
    await register(s, 'S', slow.url);
    const pending = call(`${s.url}/api/slow`);
    await waitFor(() => s.proxy!.inflight() === 1, 'request in flight');
    await s.close({ timeoutMs: 5_000 });
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.text).toBe('finished');
  });
});
