import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import pino from 'pino';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { tempDir } from '../security/helpers.js';
import { anyBody, jsonBodies, registerRecord, routeRecord, statsRecord, type FuzzBody } from './arbitraries.js';

/**
 * Property-based fuzzing of every JSON endpoint of the management API against a real server (in-process,
 * real HTTP over keep-alive, real SQLite file): each generated body must be answered 2xx/4xx — never 5xx, never
 * a dropped connection — the server must stay alive, and memory must stay bounded.
 * CI: 10 000 bodies per JSON endpoint. `npm run fuzz`: VANTAGE_FUZZ_RUNS=100000.
 */
const RUNS = Number(process.env.VANTAGE_FUZZ_RUNS ?? 10_000);
const SMALL_RUNS = Math.max(1000, Math.floor(RUNS / 5));
/** Bodies sent concurrently per property run (over 4 keep-alive connections); runs × BATCH ≥ the body count. */
const BATCH = 16;
const SEED = process.env.VANTAGE_FUZZ_SEED ? Number(process.env.VANTAGE_FUZZ_SEED) : undefined;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const tmp = tempDir('vantage-fuzz-');
let server: RunningServer;
let client: Pool;
let heapBefore = 0;
const statusCounts = new Map<string, Map<number, number>>();

beforeAll(async () => {
  const config = loadServerConfig({
    flags: {
      port: 0,
      host: '127.0.0.1',
      database: join(tmp.dir, 'fuzz.db'),
      monitoring_enabled: false,
      health_check_enabled: false,
      rate_limit_per_minute: 1_000_000_000,
      rate_limit_burst: 1_000_000_000,
      max_request_body_bytes: 65_536,
      log_level: 'fatal',
    },
  }).config;
  server = await startServer(config, { logger: pino({ level: 'fatal' }) });
  client = new Pool(server.url, { connections: 4, keepAliveTimeout: 60_000, pipelining: 1 });
  await seedFleet();
  gc();
  heapBefore = process.memoryUsage().heapUsed;
});

afterAll(async () => {
  await client?.close();
  await server?.close({ timeoutMs: 2000 });
  tmp.cleanup();
  const summary = [...statusCounts].map(([ep, m]) => `${ep}: ${[...m].sort((a, b) => a[0] - b[0]).map(([s, c]) => `${s}×${c}`).join(' ')}`);
  process.stdout.write(`fuzz status counts (runs per endpoint ${RUNS}):\n  ${summary.join('\n  ')}\n`);
});

async function send(method: string, path: string, b: FuzzBody): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (b.contentType !== undefined) headers['content-type'] = b.contentType;
  const res = await client.request({ method: method as 'POST', path, headers, body: typeof b.body === 'string' ? b.body : Buffer.from(b.body) });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

function count(endpoint: string, status: number): void {
  let m = statusCounts.get(endpoint);
  if (!m) statusCounts.set(endpoint, (m = new Map()));
  m.set(status, (m.get(status) ?? 0) + 1);
}

/** The only 5xx the API documents: 503 "no backend available" on /route, with the reasons summarised. */
function isNoCapacity(path: string, status: number, text: string): boolean {
  if (status !== 503 || !path.startsWith('/route')) return false;
  const body = JSON.parse(text) as { error?: string; reasons?: unknown };
  return typeof body.error === 'string' && body.error.startsWith('no backend available') && typeof body.reasons === 'object';
}

async function fuzz(method: string, path: string | fc.Arbitrary<string>, bodies: fc.Arbitrary<FuzzBody>, bodiesWanted: number): Promise<void> {
  const paths = typeof path === 'string' ? fc.constant(path) : path;
  const label = `${method} ${typeof path === 'string' ? path : '(fuzzed path)'}`;
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(paths, bodies), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      const results = await Promise.all(batch.map(([p, b]) => send(method, p, b).then((r) => ({ p, b, r }))));
      for (const { p, r } of results) {
        sent++;
        count(label, r.status);
        if ((r.status >= 500 && !isNoCapacity(p, r.status, r.text)) || r.status < 200) {
          throw new Error(`${method} ${p} answered ${r.status}: ${r.text.slice(0, 300)}`);
        }
        // Every answer is JSON.
        JSON.parse(r.text);
      }
    }),
    { numRuns: Math.ceil(bodiesWanted / BATCH), seed: SEED, endOnFailure: true },
  );
  expect(sent).toBeGreaterThanOrEqual(bodiesWanted);
  const health = await send('GET', '/health', { body: '', contentType: undefined });
  expect(health.status).toBe(200);
}

/** Backends with room for every default tier, so /route fuzzing reaches the success path too. */
async function seedFleet(): Promise<void> {
  for (const [id, gpus] of [
    ['seed-cpu', 0],
    ['seed-gpu', 2],
  ] as const) {
    const reg = await send('POST', '/register', {
      contentType: 'application/json',
      body: JSON.stringify({ client_id: id, hostname: id, public_ip: '127.0.0.1', local_ip: '127.0.0.1', total_cpu: 64, total_memory_gb: 512, total_storage_gb: 4000, total_gpus: gpus, gpu_models: gpus ? ['A100', 'A100'] : [], endpoint_url: 'http://127.0.0.1:11000' }),
    });
    expect(reg.status).toBe(200);
    const stats = await send('POST', '/stats', {
      contentType: 'application/json',
      body: JSON.stringify({
        client_id: id,
        hostname: id,
        timestamp: new Date().toISOString(),
        cpu_cores: 64,
        cpu_usage_avg: new Array(64).fill(5),
        memory_total_gb: 512,
        memory_used_gb: 10,
        memory_avail_gb: 500,
        disk_total_gb: 4000,
        disk_used_gb: 10,
        disk_avail_gb: 3990,
        gpus: gpus ? [0, 1].map((d) => ({ device_id: d, name: 'A100', utilization_pct: 0, memory_used_gb: 0, memory_total_gb: 80, temperature_c: 40 })) : [],
      }),
    });
    expect(stats.status).toBe(200);
  }
}

describe(`fuzzing the management API (${RUNS} bodies per JSON endpoint)`, () => {
  it('POST /register', { timeout: 600_000 }, async () => {
    await fuzz('POST', '/register', jsonBodies(registerRecord), RUNS);
  });

  it('POST /stats', { timeout: 600_000 }, async () => {
    await fuzz('POST', '/stats', jsonBodies(statsRecord), RUNS);
  });

  it('POST /route', { timeout: 600_000 }, async () => {
    await fuzz('POST', '/route', jsonBodies(routeRecord), RUNS);
  });

  it('POST /route?explain=1', { timeout: 600_000 }, async () => {
    await fuzz('POST', '/route?explain=1', jsonBodies(routeRecord), RUNS);
  });

  it('endpoints without a JSON body: purge, purge-pending, DELETE /reservations/{id}, GET /clients', { timeout: 600_000 }, async () => {
    await fuzz('POST', '/clients/purge-pending', anyBody, SMALL_RUNS);
    await fuzz('DELETE', '/clients/purge', anyBody, SMALL_RUNS);
    const ids = fc.oneof(fc.string({ maxLength: 40 }), fc.uuid()).map((s) => `/reservations/${encodeURIComponent(s)}`);
    await fuzz('DELETE', ids, anyBody, SMALL_RUNS);
    const queries = fc.string({ maxLength: 40 }).map((s) => `/clients?active_only=${encodeURIComponent(s)}`);
    await fuzz('GET', queries, fc.constant({ body: '', contentType: undefined }), SMALL_RUNS);
  });

  it('memory stays bounded and the server still routes', async () => {
    gc();
    const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    process.stdout.write(`fuzz heap growth: ${grownMb.toFixed(1)} MB; backends registered: ${server.engine.backends().length}\n`);
    expect(grownMb).toBeLessThan(150);
    const r = await send('POST', '/route', { body: '{"tier":"small"}', contentType: 'application/json' });
    expect([200, 503]).toContain(r.status);
  });
});
