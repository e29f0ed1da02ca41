import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AGENT_CONFIG_DEFAULTS } from '../../src/agent/config.js';
import type { AgentConfig } from '../../src/agent/config.js';
import { runAgent } from '../../src/app/agent.js';
import type { AgentServiceContext } from '../../src/app/agent.js';
import { RegisterRequestSchema, StatsRequestSchema } from '../../src/api/lb/wire.js';
import { captureLogger, FIXTURES, waitFor } from './helpers.js';
import { fakeVantage, json, scriptedServer } from './http-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vantage-agent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const smi = join(dir, 'nvidia-smi');
writeFileSync(smi, `#!/bin/sh\ncat "${join(FIXTURES, 'nvidia-smi-multi-gpu-na.csv')}"\n`);
chmodSync(smi, 0o755);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function config(over: Partial<AgentConfig>): AgentConfig {
  return { ...AGENT_CONFIG_DEFAULTS, skip_geolocation: true, state_dir: join(dir, 'state'), local_ip: '10.9.8.7', ...over };
}

describe('runAgent --once --print', () => {
  it('samples for a few seconds and prints the register and stats bodies without sending anything', async () => {
    const srv = await scriptedServer(fakeVantage());
    cleanups.push(srv.close);
    let out = '';
    const { logger } = captureLogger();
    const code = await runAgent(config({ server_url: srv.url, latitude: 50.11, longitude: 8.68 }), {
      logger,
      once: true,
      print: true,
      onceSeconds: 1,
      nvidiaSmi: smi,
      gpuMode: 'exec',
      stdout: { write: (c: string) => (out += c) },
    });
    expect(code).toBe(0);
    expect(srv.requests).toHaveLength(0);
    const printed = JSON.parse(out) as { register: unknown; stats: unknown; location_source: string; gpus_enabled: boolean };
    const reg = RegisterRequestSchema.parse(printed.register);
    const stats = StatsRequestSchema.parse(printed.stats);
    expect(reg.total_cpu).toBeGreaterThan(0);
    expect(reg.total_memory_gb).toBeGreaterThan(0);
    expect(reg.endpoint_url).toBe('http://10.9.8.7:11000');
    expect(reg).toMatchObject({ latitude: 50.11, longitude: 8.68, total_gpus: 4 });
    expect(reg.gpu_models).toEqual(['NVIDIA H200', 'NVIDIA H200', 'NVIDIA A100-SXM4-80GB', 'NVIDIA GeForce RTX 4090']);
    expect(stats.cpu_cores).toBe(stats.cpu_usage_avg.length);
    expect(stats.cpu_cores).toBe(reg.total_cpu);
    expect(stats.memory_used_gb).toBeGreaterThan(0);
    expect(stats.disk_total_gb).toBeGreaterThan(0);
    expect(stats.gpus?.[0]).toEqual({
      device_id: 0,
      name: 'NVIDIA H200',
      utilization_pct: 100,
      memory_used_gb: 19.614,
      memory_total_gb: 140.401,
      temperature_c: 58,
      power_draw_w: 690.1,
    });
    // Unknown GPU figures stay unknown (null / absent), never 0.
    expect(stats.gpus?.[2]).toEqual({
      device_id: 2,
      name: 'NVIDIA A100-SXM4-80GB',
      utilization_pct: null,
      memory_used_gb: null,
      memory_total_gb: 80,
      temperature_c: null,
    });
    expect(printed.location_source).toBe('config');
    expect(printed.gpus_enabled).toBe(true);
  });
});

describe('runAgent', () => {
  it('registers, reports every interval, serves /metrics, runs attached services, and stops cleanly', async () => {
    const srv = await scriptedServer(fakeVantage());
    cleanups.push(srv.close);
    const metricsPort = await freePort();
    const ac = new AbortController();
    const { logger } = captureLogger();
    const started: AgentServiceContext[] = [];
    let stopped = 0;
    let metricsReady: number | null = null;
    const done = runAgent(
      config({ server_url: srv.url, report_interval_seconds: 1, metrics_port: metricsPort, server_key: 'k1', state_dir: join(dir, 'run') }),
      {
        logger,
        signal: ac.signal,
        nvidiaSmi: join(dir, 'no-such-nvidia-smi'),
        extraServices: [
          (ctx) => {
            started.push(ctx);
            return { stop: async () => void stopped++ };
          },
          () => {
            throw new Error('monitoring worker cannot start');
          },
        ],
        onReady: (info) => (metricsReady = info.metricsPort),
      },
    );
    await waitFor(() => srv.requests.filter((r) => r.path === '/stats').length >= 2, 10_000, 'two stats reports');
    expect(srv.requests[0]?.path).toBe('/register');
    expect(srv.requests[0]?.headers['x-api-key']).toBe('k1');
    const stats = StatsRequestSchema.parse(srv.requests.find((r) => r.path === '/stats')?.body);
    expect(stats.cpu_usage_avg.length).toBeGreaterThan(0);
    expect(stats.gpus).toBeUndefined(); // no nvidia-smi here
    expect(started).toHaveLength(1);
    expect(started[0]?.clientId).toBe(stats.client_id);

    expect(metricsReady).toBe(metricsPort);
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(/vantage_agent_reports_sent_total\{kind="stats"\} [1-9]/);
    expect(text).toMatch(/vantage_agent_breaker_state 0/);
    expect(text).toMatch(/vantage_agent_sample_duration_seconds_count\{resource="cpu"\} [1-9]/);
    expect(text).toMatch(/vantage_agent_gpus_enabled 0/);
    expect(text).toMatch(/vantage_agent_process_resident_memory_bytes/);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);

    ac.abort();
    expect(await done).toBe(0);
    expect(stopped).toBe(1);
    // The metrics port is released.
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });

  it('--once sends one report and exits 0; keeps its generated id across restarts', async () => {
    const srv = await scriptedServer(fakeVantage());
    cleanups.push(srv.close);
    const cfg = config({ server_url: srv.url, state_dir: join(dir, 'keep') });
    const opts = { logger: captureLogger().logger, once: true, onceSeconds: 1, nvidiaSmi: smi, gpuMode: 'exec' as const };
    expect(await runAgent(cfg, opts)).toBe(0);
    expect(await runAgent(cfg, opts)).toBe(0);
    const ids = srv.requests.map((r) => (r.body as { client_id: string }).client_id);
    expect(srv.requests.map((r) => r.path)).toEqual(['/register', '/stats', '/register', '/stats']);
    expect(new Set(ids).size).toBe(1);
  });

  it('--once exits 1 when the report cannot be delivered, without hanging', async () => {
    const srv = await scriptedServer((_req, res) => json(res, 500, { error: 'down' }));
    cleanups.push(srv.close);
    const code = await runAgent(config({ server_url: srv.url }), {
      logger: captureLogger().logger,
      once: true,
      onceSeconds: 1,
      nvidiaSmi: smi,
      reporter: { maxAttempts: 2, backoff: { baseMs: 10 } },
    });
    expect(code).toBe(1);
    expect(srv.requests).toHaveLength(2);
  });

  it('keeps sampling and reporting while the server is down, and recovers when it is back', async () => {
    const srv = await scriptedServer((_req, res) => json(res, 503, { error: 'starting' }));
    cleanups.push(srv.close);
    const ac = new AbortController();
    const outcomes: string[] = [];
    const done = runAgent(config({ server_url: srv.url, report_interval_seconds: 1, state_dir: join(dir, 'down') }), {
      logger: captureLogger().logger,
      signal: ac.signal,
      nvidiaSmi: smi,
      gpuMode: 'exec',
      reporter: { maxAttempts: 2, backoff: { baseMs: 20 }, breakerThreshold: 3, breakerOpenMs: 1500 },
      onReport: (o) => outcomes.push(o.kind),
    });
    await waitFor(() => outcomes.length >= 3, 10_000, 'three failed cycles');
    expect(outcomes.slice(0, 3).every((o) => o === 'failed')).toBe(true);
    const during = srv.requests.length;
    expect(during).toBeLessThanOrEqual(6); // breaker open: no tight loop
    srv.setHandler(fakeVantage());
    await waitFor(() => outcomes.at(-1) === 'ok', 10_000, 'recovery');
    ac.abort();
    expect(await done).toBe(0);
  });

  it('resolves promptly when stopped during startup', async () => {
    const ac = new AbortController();
    const done = runAgent(config({ server_url: 'http://127.0.0.1:9' }), { logger: captureLogger().logger, signal: ac.signal, nvidiaSmi: smi });
    ac.abort();
    const started = Date.now();
    expect(await done).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
