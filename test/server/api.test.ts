import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityRecord, writeMmdb } from '../agent/mmdb-writer.js';
import { addBackend, api, registerBody, spawnServer, statsBody, tempDir, type ServerProcess } from './helpers.js';

/**
 * Black-box tests of the management API against a real `vantage server` process (dist/cli/main.js) on an
 * ephemeral port with a real SQLite file.
 */
describe('management API (real server process, no API keys)', () => {
  const tmp = tempDir();
  let srv: ServerProcess;
  let base: string;

  beforeAll(async () => {
    const mmdb = join(tmp.dir, 'city.mmdb');
    writeMmdb(mmdb, [
      { cidr: '203.0.113.0/24', data: cityRecord({ lat: 52.37, lon: 4.89, city: 'Amsterdam', country: 'Netherlands', iso: 'NL' }) },
    ]);
    srv = await spawnServer(tmp.dir, { sticky_header: 'X-Session-ID', geoip_db_path: mmdb, max_request_body_bytes: 4096 });
    base = srv.url;
  });
  afterAll(async () => {
    await srv?.stop();
    tmp.cleanup();
  });

  describe('POST /register', () => {
    it('registers a backend and lists it in /clients', async () => {
      const r = await api(base, '/register', { body: registerBody('reg-1', { gpu_models: ['H200'], total_gpus: 1 }) });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ status: 'registered' });
      const list = await api(base, '/clients');
      expect(list.json.find((c: { client_id: string }) => c.client_id === 'reg-1')).toMatchObject({
        hostname: 'reg-1.test',
        endpoint: 'http://reg-1.test:11000',
        total_gpus: 1,
        gpu_models: ['H200'],
      });
    });

    it('computes the default endpoint from local_ip when endpoint_url is absent', async () => {
      const body = registerBody('reg-2', { local_ip: '10.1.2.3' });
      delete body.endpoint_url;
      expect((await api(base, '/register', { body })).json).toMatchObject({ endpoint: 'http://10.1.2.3:11000' });
    });

    it.each([
      ['missing client_id', { client_id: undefined }, 'client_id'],
      ['wrong-typed total_cpu', { total_cpu: '8' }, 'total_cpu'],
      ['memory total 0', { total_memory_gb: 0 }, 'total_memory_gb'],
      ['negative storage', { total_storage_gb: -1 }, 'total_storage_gb'],
      ['latitude out of range', { latitude: 91, longitude: 0 }, 'latitude'],
      ['latitude without longitude', { latitude: 10, longitude: null }, 'longitude'],
      ['endpoint_url not http', { endpoint_url: 'ftp://x' }, 'endpoint_url'],
    ])('rejects %s with 400 naming the field', async (_name, over, field) => {
      const r = await api(base, '/register', { body: registerBody('bad', over) });
      expect(r.status).toBe(400);
      expect(r.json.field).toBe(field);
      expect(r.json.error).toContain(field);
    });

    it('rejects malformed JSON with 400', async () => {
      const r = await api(base, '/register', { body: '{"client_id": "x",', headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ field: 'body' });
      expect(r.json.error).toMatch(/malformed JSON/);
    });

    it('rejects a body that is not an object', async () => {
      const r = await api(base, '/register', { body: '[1,2]', headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: 'body: request body must be a JSON object', field: 'body' });
    });

    it('rejects a wrong Content-Type with 400', async () => {
      const r = await api(base, '/register', { body: JSON.stringify(registerBody('ct')), headers: { 'content-type': 'text/xml' } });
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ field: 'content-type' });
      expect(r.json.error).toContain('text/xml');
    });
  });

  describe('POST /stats', () => {
    it('accepts a report for a registered backend', async () => {
      await api(base, '/register', { body: registerBody('st-1') });
      const r = await api(base, '/stats', {
        body: statsBody('st-1', {
          gpus: [{ device_id: 0, name: 'H200', utilization_pct: null, memory_used_gb: 1, memory_total_gb: 141, temperature_c: 40 }],
        }),
      });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ status: 'ok' });
      const c = (await api(base, '/clients')).json.find((x: { client_id: string }) => x.client_id === 'st-1');
      expect(c).toMatchObject({ cpu_cores: 16, cpu_usage_pct: 10, memory_used_gb: 16, memory_usage_pct: 25, is_active: true });
      expect(c.gpu_stats).toEqual([
        { device_id: 0, name: 'H200', utilization_pct: null, memory_used_gb: 1, memory_total_gb: 141, temperature_c: 40, power_draw_w: null },
      ]);
    });

    it('answers 404 for an unknown client_id, telling the agent to register', async () => {
      const r = await api(base, '/stats', { body: statsBody('never-registered') });
      expect(r.status).toBe(404);
      expect(r.json.field).toBe('client_id');
      expect(r.json.error).toMatch(/register/);
    });

    it.each([
      ['usage over 100 %', { cpu_usage_avg: [10, 100.5] }, 'cpu_usage_avg.1'],
      ['negative usage', { cpu_usage_avg: [-1, 10] }, 'cpu_usage_avg.0'],
      ['"NaN" usage', { cpu_usage_avg: ['NaN'] }, 'cpu_usage_avg.0'],
      ['null usage', { cpu_usage_avg: [null] }, 'cpu_usage_avg.0'],
      ['memory total 0', { memory_total_gb: 0, memory_used_gb: 0, memory_avail_gb: 0 }, 'memory_total_gb'],
      ['memory used above total', { memory_used_gb: 100 }, 'memory_used_gb'],
      ['negative disk', { disk_avail_gb: -5 }, 'disk_avail_gb'],
      ['GPU utilisation over 100 %', { gpus: [{ device_id: 0, name: 'x', utilization_pct: 120, memory_used_gb: 1, memory_total_gb: 2 }] }, 'gpus.0.utilization_pct'],
      ['bad timestamp', { timestamp: 'yesterday' }, 'timestamp'],
      ['missing memory fields', { memory_avail_gb: undefined }, 'memory_avail_gb'],
    ])('rejects %s with 400 naming the field', async (_name, over, field) => {
      await api(base, '/register', { body: registerBody('st-bad') });
      const r = await api(base, '/stats', { body: statsBody('st-bad', over) });
      expect(r.status).toBe(400);
      expect(r.json.field).toBe(field);
    });

    it('rejects a literal NaN (not JSON) as malformed', async () => {
      const text = JSON.stringify(statsBody('st-bad')).replace('"cpu_usage_avg":[10', '"cpu_usage_avg":[NaN');
      const r = await api(base, '/stats', { body: text, headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(400);
      expect(r.json.field).toBe('body');
    });
  });

  describe('POST /route', () => {
    it('reproduces the seed worked example: A and B reserve the 8 GB server, C goes elsewhere', async () => {
      const local = tempDir();
      const s = await spawnServer(local.dir, {});
      try {
        // "big8": 8 GB free, lightly loaded (best score); "other": plenty of memory, more loaded.
        await addBackend(s.url, 'big8', {}, { memory_total_gb: 16, memory_used_gb: 8, memory_avail_gb: 8 });
        await addBackend(s.url, 'other', {}, {
          cpu_usage_avg: Array.from({ length: 16 }, () => 60),
          memory_total_gb: 64,
          memory_used_gb: 32,
          memory_avail_gb: 32,
        });
        const a = await api(s.url, '/route', { body: { tier: 'medium' } });
        const b = await api(s.url, '/route', { body: { tier: 'medium' } });
        const c = await api(s.url, '/route', { body: { tier: 'medium' } });
        expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
        expect([a.json.client_id, b.json.client_id, c.json.client_id]).toEqual(['big8', 'big8', 'other']);
        expect(new Set([a.json.reservation_id, b.json.reservation_id, c.json.reservation_id]).size).toBe(3);
        const big8 = (await api(s.url, '/clients')).json.find((x: { client_id: string }) => x.client_id === 'big8');
        expect(big8.pending).toMatchObject({ reservations: 2, memory_gb: 8, vcpu: 4 });
      } finally {
        await s.stop();
        local.cleanup();
      }
    });

    it('answers the seed fields plus reservation_id, with the default tier when none is named', async () => {
      await addBackend(base, 'rt-1');
      const r = await api(base, '/route', { body: {} });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ tier: 'small', sticky: false });
      for (const k of ['client_id', 'endpoint', 'hostname', 'reservation_id']) expect(typeof r.json[k]).toBe('string');
      expect(r.json).not.toHaveProperty('distance_km');
    });

    it('accepts curl -d (form-urlencoded label, JSON body) and an empty body', async () => {
      const r = await api(base, '/route', { body: '{"tier":"small"}', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(r.status).toBe(200);
      expect((await api(base, '/route', { method: 'POST' })).status).toBe(200);
    });

    it('answers 400 listing the known tiers for an unknown tier', async () => {
      const r = await api(base, '/route', { body: { tier: 'huge' } });
      expect(r.status).toBe(400);
      expect(r.json.field).toBe('tier');
      expect(r.json.known_tiers).toEqual(['small', 'medium', 'large', 'gpu-inference', 'gpu-training']);
      expect(r.json.error).toContain('small, medium, large, gpu-inference, gpu-training');
    });

    it.each([
      ['client_ip not an IP', { client_ip: 'not-an-ip' }, 'client_ip'],
      ['client_lat out of range', { client_lat: 100, client_lon: 0 }, 'client_lat'],
      ['client_lat without client_lon', { client_lat: 10 }, 'client_lon'],
      ['tier of the wrong type', { tier: 3 }, 'tier'],
    ])('rejects %s with 400', async (_n, body, field) => {
      const r = await api(base, '/route', { body });
      expect(r.status).toBe(400);
      expect(r.json.field).toBe(field);
    });

    it('answers 503 with Retry-After and the reasons summarised when no backend fits', async () => {
      const local = tempDir();
      const s = await spawnServer(local.dir, {});
      try {
        await addBackend(s.url, 'm1', {}, { memory_total_gb: 64, memory_used_gb: 63, memory_avail_gb: 1 });
        await addBackend(s.url, 'm2', {}, { memory_total_gb: 64, memory_used_gb: 62, memory_avail_gb: 2 });
        await api(s.url, '/register', { body: registerBody('fresh') });
        const r = await api(s.url, '/route', { body: { tier: 'medium' } });
        expect(r.status).toBe(503);
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
        expect(r.json.error).toBe('no backend available for tier "medium": 3 backends: 2 lack memory, 1 no stats yet');
        expect(r.json).toMatchObject({ tier: 'medium', total_backends: 3, reasons: { memory: 2, no_stats: 1 } });
      } finally {
        await s.stop();
        local.cleanup();
      }
    });

    it('uses client_lat/client_lon, and GeoIP of client_ip, for the distance term', async () => {
      const local = tempDir();
      const mmdb = join(local.dir, 'city.mmdb');
      writeMmdb(mmdb, [
        { cidr: '203.0.113.0/24', data: cityRecord({ lat: 52.37, lon: 4.89, city: 'Amsterdam', country: 'Netherlands', iso: 'NL' }) },
      ]);
      const s = await spawnServer(local.dir, { geoip_db_path: mmdb });
      try {
        await addBackend(s.url, 'ams', { latitude: 52.37, longitude: 4.9 }, { cpu_usage_avg: Array(16).fill(50) });
        await addBackend(s.url, 'nyc', { latitude: 40.71, longitude: -74.0 }, { cpu_usage_avg: Array(16).fill(1) });
        // Without a location the less-loaded NYC backend wins…
        expect((await api(s.url, '/route', { body: { tier: 'small' } })).json.client_id).toBe('nyc');
        // …with one, distance dominates.
        const near = await api(s.url, '/route', { body: { tier: 'small', client_lat: 52.0, client_lon: 5.0 } });
        expect(near.json.client_id).toBe('ams');
        expect(near.json.distance_km).toBeGreaterThan(30);
        expect(near.json.distance_km).toBeLessThan(60);
        const geo = await api(s.url, '/route', { body: { tier: 'small', client_ip: '203.0.113.9' } });
        expect(geo.json.client_id).toBe('ams');
        expect(geo.json.distance_km).toBeLessThan(5);
        // An address the database does not know: distance term off.
        const unknown = await api(s.url, '/route', { body: { tier: 'small', client_ip: '198.51.100.1' } });
        expect(unknown.json.client_id).toBe('nyc');
        expect(unknown.json).not.toHaveProperty('distance_km');
      } finally {
        await s.stop();
        local.cleanup();
      }
    });

    it('honours the configured sticky header', async () => {
      await addBackend(base, 'sticky-a');
      const first = await api(base, '/route', { body: { tier: 'small' }, headers: { 'X-Session-ID': 'sess-42' } });
      expect(first.status).toBe(200);
      expect(first.json.sticky).toBe(false);
      // Make the assigned backend the worst choice: it is still eligible, so the session stays there.
      await api(base, '/stats', { body: statsBody(first.json.client_id, { cpu_usage_avg: Array(16).fill(79) }) });
      const again = await api(base, '/route', { body: { tier: 'small' }, headers: { 'x-session-id': 'sess-42' } });
      expect(again.json).toMatchObject({ client_id: first.json.client_id, sticky: true });
      const fresh = await api(base, '/route', { body: { tier: 'small' } });
      expect(fresh.json.client_id).not.toBe(first.json.client_id);
    });

    it('explains per backend why it was filtered or how it scored, without reserving', async () => {
      const local = tempDir();
      const s = await spawnServer(local.dir, {});
      try {
        await addBackend(s.url, 'ok-1', {}, { cpu_usage_avg: Array(16).fill(20) });
        await addBackend(s.url, 'low-mem', {}, { memory_total_gb: 64, memory_used_gb: 63.5, memory_avail_gb: 0.5 });
        await api(s.url, '/register', { body: registerBody('no-stats') });
        const r = await api(s.url, '/route?explain=1', { body: { tier: 'medium' } });
        expect(r.status).toBe(200);
        expect(r.json.tier).toBe('medium');
        expect(r.json.decision).toMatchObject({ status: 200, client_id: 'ok-1' });
        const rows = Object.fromEntries(r.json.backends.map((b: { client_id: string }) => [b.client_id, b]));
        expect(rows['ok-1']).toMatchObject({ eligible: true, score: { cpu: 20, memory: 25, gpu: 0, latency_ms: 0, total: 45, distance_km: null } });
        expect(rows['low-mem']).toMatchObject({ eligible: false, reason: 'memory' });
        expect(rows['no-stats']).toMatchObject({ eligible: false, reason: 'no_stats' });
        const clients = (await api(s.url, '/clients')).json as { pending: { reservations: number } }[];
        expect(clients.every((c) => c.pending.reservations === 0)).toBe(true);
      } finally {
        await s.stop();
        local.cleanup();
      }
    });
  });

  describe('DELETE /reservations/{id}', () => {
    it('releases a reservation early, then 404s', async () => {
      await addBackend(base, 'res-1');
      const r = await api(base, '/route', { body: { tier: 'small' } });
      const id = r.json.reservation_id as string;
      const del = await api(base, `/reservations/${encodeURIComponent(id)}`, { method: 'DELETE' });
      expect(del.status).toBe(200);
      expect(del.json).toEqual({ status: 'released', reservation_id: id });
      expect((await api(base, `/reservations/${encodeURIComponent(id)}`, { method: 'DELETE' })).status).toBe(404);
      expect((await api(base, '/reservations/does-not-exist', { method: 'DELETE' })).status).toBe(404);
      expect((await api(base, `/reservations/${encodeURIComponent(id)}`)).status).toBe(405);
    });
  });

  describe('GET /health, /clients, /metrics, admin', () => {
    it('health reports counts', async () => {
      const r = await api(base, '/health');
      expect(r.status).toBe(200);
      expect(r.json.status).toBe('healthy');
      expect(Number.isFinite(Date.parse(r.json.timestamp))).toBe(true);
      expect(r.json.total_clients).toBeGreaterThan(0);
      expect(r.json.active_clients).toBeLessThanOrEqual(r.json.total_clients);
    });

    it('clients returns numbers with units in field names, active_only filters', async () => {
      await addBackend(base, 'cl-1');
      const all = (await api(base, '/clients')).json as Record<string, unknown>[];
      const c = all.find((x) => x.client_id === 'cl-1')!;
      for (const k of ['cpu_cores', 'cpu_usage_pct', 'memory_total_gb', 'memory_used_gb', 'memory_avail_gb', 'disk_total_gb', 'disk_avail_gb']) {
        expect(typeof c[k]).toBe('number');
      }
      expect(Number.isFinite(Date.parse(c.last_seen as string))).toBe(true);
      expect(c).toMatchObject({ is_active: true, health_status: 'unknown' });
      const active = (await api(base, '/clients?active_only=true')).json as Record<string, unknown>[];
      expect(active.every((x) => x.is_active === true)).toBe(true);
    });

    it('metrics exposes routes, decision latency, backends, reservations and requests', async () => {
      await api(base, '/route', { body: { tier: 'small' } });
      const r = await api(base, '/metrics');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      expect(r.text).toMatch(/vantage_routes_total\{tier="small",outcome="ok"\} \d+/);
      expect(r.text).toMatch(/vantage_route_decision_seconds_count \d+/);
      expect(r.text).toMatch(/vantage_backends\{state="active"\} \d+/);
      expect(r.text).toMatch(/vantage_reservations \d+/);
      expect(r.text).toMatch(/vantage_http_requests_total\{route="\/route",status="200"\} \d+/);
      expect(r.text).toMatch(/vantage_http_requests_total\{route="\/stats",status="404"\} \d+/);
    });

    it('purge-pending drops reservations; purge answers with the purged count', async () => {
      await addBackend(base, 'pp-1');
      await api(base, '/route', { body: { tier: 'small' } });
      const pp = await api(base, '/clients/purge-pending', { method: 'DELETE' });
      expect(pp.status).toBe(200);
      expect(pp.json.cleared).toBeGreaterThan(0);
      const clients = (await api(base, '/clients')).json as { pending: { reservations: number } }[];
      expect(clients.every((c) => c.pending.reservations === 0)).toBe(true);
      const purge = await api(base, '/clients/purge', { method: 'POST' });
      expect(purge.status).toBe(200);
      expect(purge.json).toMatchObject({ status: 'ok', purged: 0 });
    });
  });

  describe('protocol errors', () => {
    it('405 with Allow for a wrong method, 404 for an unknown path', async () => {
      const r = await api(base, '/register');
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('POST');
      expect(r.json.error).toMatch(/not allowed/);
      const nf = await api(base, '/nope');
      expect(nf.status).toBe(404);
      expect(nf.json.error).toMatch(/not found/);
    });

    it('413 for a declared Content-Length above max_request_body_bytes', async () => {
      const big = JSON.stringify(registerBody('big', { hostname: 'x'.repeat(5000) }));
      const r = await api(base, '/register', { body: big, headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(413);
      expect(r.json.error).toMatch(/max_request_body_bytes/);
    });

    it('413 for a chunked body that grows past the limit', async () => {
      const url = new URL('/register', base);
      const result = await new Promise<{ status: number; body: string }>((resolve) => {
        let status = 0;
        let body = '';
        const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
          status = res.statusCode ?? 0;
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status, body }));
        });
        // The server answers early and stops reading: the client's remaining writes may then fail (EPIPE/ECONNRESET).
        // That is fine once the answer arrived; a transport error before any answer is reported as the result.
        req.on('error', (err) => resolve(status !== 0 ? { status, body } : { status: -1, body: JSON.stringify({ error: `client saw ${err.message} before any answer` }) }));
        let sent = 0;
        const chunk = 'x'.repeat(1024);
        const pump = () => {
          while (sent < 64 && !req.destroyed) {
            sent += 1;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      expect(result.status, result.body).toBe(413);
      expect(JSON.parse(result.body).error).toMatch(/max_request_body_bytes/);
    });
  });
});

describe('API keys (real server process)', () => {
  const tmp = tempDir();
  let srv: ServerProcess;

  beforeAll(async () => {
    srv = await spawnServer(tmp.dir, { server_key: 'agent-secret-0123456789', api_keys: ['integration-key-abcdef'] });
  });
  afterAll(async () => {
    await srv?.stop();
    tmp.cleanup();
  });

  it('/health needs no key', async () => {
    expect((await api(srv.url, '/health')).status).toBe(200);
  });

  it.each([
    ['GET', '/clients', undefined],
    ['GET', '/metrics', undefined],
    ['POST', '/route', { tier: 'small' }],
    ['POST', '/register', registerBody('k')],
    ['POST', '/stats', statsBody('k')],
    ['DELETE', '/reservations/x', undefined],
    ['POST', '/clients/purge', undefined],
    ['POST', '/clients/purge-pending', undefined],
  ])('%s %s answers 401 without a key and 403 with a wrong one', async (method, path, body) => {
    const none = await api(srv.url, path, { method, body });
    expect(none.status).toBe(401);
    expect(none.json.error).toMatch(/X-API-Key/);
    const wrong = await api(srv.url, path, { method, body, headers: { 'X-API-Key': 'agent-secret-0123456788' } });
    expect(wrong.status).toBe(403);
  });

  it('accepts server_key and every api_keys entry', async () => {
    const reg = await api(srv.url, '/register', { body: registerBody('keyed'), headers: { 'X-API-Key': 'agent-secret-0123456789' } });
    expect(reg.status).toBe(200);
    const list = await api(srv.url, '/clients', { headers: { 'X-API-Key': 'integration-key-abcdef' } });
    expect(list.status).toBe(200);
    expect(list.json.map((c: { client_id: string }) => c.client_id)).toContain('keyed');
  });

  it('requires a key for ?explain=1 too', async () => {
    expect((await api(srv.url, '/route?explain=1', { body: { tier: 'small' } })).status).toBe(401);
    const ok = await api(srv.url, '/route?explain=1', { body: { tier: 'small' }, headers: { 'X-API-Key': 'integration-key-abcdef' } });
    expect(ok.status).toBe(200);
    expect(Array.isArray(ok.json.backends)).toBe(true);
  });
});
