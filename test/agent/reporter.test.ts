import { afterEach, describe, expect, it } from 'vitest';
import { Reporter } from '../../src/agent/reporter/reporter.js';
import { createTransport } from '../../src/agent/reporter/transport.js';
import type { RegisterRequest, StatsRequest } from '../../src/api/lb/wire.js';
import { AgentTelemetry } from '../../src/agent/telemetry.js';
import { captureLogger } from './helpers.js';
import { fakeVantage, json, scriptedServer } from './http-helpers.js';

const REG: RegisterRequest = {
  client_id: 'c-1',
  hostname: 'h',
  public_ip: '',
  local_ip: '10.0.0.2',
  latitude: null,
  longitude: null,
  country: '',
  city: '',
  total_cpu: 2,
  total_memory_gb: 4,
  total_storage_gb: 10,
  endpoint_url: 'http://10.0.0.2:11000',
};
const STATS: StatsRequest = {
  client_id: 'c-1',
  hostname: 'h',
  timestamp: new Date(0).toISOString(),
  cpu_cores: 2,
  cpu_usage_avg: [1, 2],
  memory_total_gb: 4,
  memory_used_gb: 1,
  memory_avail_gb: 3,
  disk_total_gb: 10,
  disk_used_gb: 5,
  disk_avail_gb: 5,
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(handler = fakeVantage(), timeoutMs = 2000, serverKey = 'secret-key') {
  const srv = await scriptedServer(handler);
  cleanups.push(srv.close);
  const transport = createTransport({ serverUrl: srv.url, serverKey, insecureTls: false, timeoutMs });
  cleanups.push(() => transport.close());
  let clock = 1_000_000;
  const delays: number[] = [];
  const { logger, lines } = captureLogger();
  const telemetry = await AgentTelemetry.prometheus();
  const reporter = new Reporter({
    transport,
    logger,
    now: () => clock,
    // Fake sleep: advances the fake clock instead of waiting.
    sleep: async (ms) => {
      delays.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    telemetry,
  });
  return { srv, reporter, delays, lines, telemetry, advance: (ms: number) => (clock += ms) };
}

const signal = new AbortController().signal;
const metric = async (t: AgentTelemetry, name: string): Promise<string> =>
  (await (t.registry as NonNullable<AgentTelemetry['registry']>).metrics()).split('\n').filter((l) => l.startsWith(name)).join('\n');

describe('Reporter', () => {
  it('registers first, then reports stats, with X-API-Key and the exact bodies', async () => {
    const { srv, reporter, telemetry } = await setup();
    const out = await reporter.cycle(() => REG, () => STATS, signal);
    expect(out).toEqual({ kind: 'ok' });
    expect(srv.requests.map((r) => r.path)).toEqual(['/register', '/stats']);
    expect(srv.requests[0]?.body).toEqual(REG);
    expect(srv.requests[1]?.body).toEqual(STATS);
    expect(srv.requests[0]?.headers['x-api-key']).toBe('secret-key');
    expect(srv.requests[0]?.headers['content-type']).toBe('application/json');
    // Second cycle: no re-registration.
    await reporter.cycle(() => REG, () => STATS, signal);
    expect(srv.requests.map((r) => r.path)).toEqual(['/register', '/stats', '/stats']);
    expect(await metric(telemetry, 'vantage_agent_reports_sent_total')).toContain('kind="stats"} 2');
  });

  it('sends no X-API-Key when server_key is empty', async () => {
    const { srv, reporter } = await setup(fakeVantage(), 2000, '');
    await reporter.cycle(() => REG, () => STATS, signal);
    expect(srv.requests[0]?.headers['x-api-key']).toBeUndefined();
  });

  it('re-registers when /stats answers 404 (server lost its state), then resends stats', async () => {
    const known = new Set<string>();
    const { srv, reporter, lines } = await setup(fakeVantage(known));
    await reporter.cycle(() => REG, () => STATS, signal);
    known.clear(); // server restarted with an empty database
    const out = await reporter.cycle(() => REG, () => STATS, signal);
    expect(out.kind).toBe('ok');
    expect(srv.requests.map((r) => r.path)).toEqual(['/register', '/stats', '/stats', '/register', '/stats']);
    expect(lines.some((l) => /registering again/.test(l.msg))).toBe(true);
  });

  it('retries 500s with exponential backoff, opens the breaker after 5 failures, fails fast while open, closes after 30 s', async () => {
    const { srv, reporter, delays, lines, telemetry, advance } = await setup((_req, res) => json(res, 500, { error: 'boom' }));
    const out = await reporter.cycle(() => REG, () => STATS, signal);
    expect(out.kind).toBe('failed');
    expect(srv.requests).toHaveLength(5); // 5 attempts per report
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
    expect(reporter.breaker.state).toBe('open');

    // While open: no request at all, no tight loop.
    const again = await reporter.cycle(() => REG, () => STATS, signal);
    expect(again.kind).toBe('failed');
    expect(srv.requests).toHaveLength(5);
    expect(await metric(telemetry, 'vantage_agent_breaker_state')).toContain('vantage_agent_breaker_state 2');

    srv.setHandler(fakeVantage());
    advance(30_000);
    const recovered = await reporter.cycle(() => REG, () => STATS, signal);
    expect(recovered.kind).toBe('ok');
    expect(reporter.breaker.state).toBe('closed');
    const breakerLogs = lines.filter((l) => /circuit breaker/.test(l.msg)).map((l) => l.msg);
    expect(breakerLogs).toEqual([
      'circuit breaker open: server unreachable, pausing reports',
      'circuit breaker half-open: trying the server again',
      'circuit breaker closed: server reachable again',
    ]);
    expect(await metric(telemetry, 'vantage_agent_reports_failed_total')).toContain('reason="http_5xx"} 5');
  });

  it('recovers within a report when a retry succeeds', async () => {
    let n = 0;
    const { srv, reporter, delays } = await setup((req, res) => {
      if (req.path === '/register' && n++ < 2) return json(res, 503, { error: 'busy' });
      fakeVantage(new Set(['c-1']))(req, res);
    });
    expect((await reporter.cycle(() => REG, () => STATS, signal)).kind).toBe('ok');
    expect(delays).toEqual([1000, 2000]);
    expect(srv.requests.map((r) => r.path)).toEqual(['/register', '/register', '/register', '/stats']);
    expect(reporter.breaker.state).toBe('closed');
  });

  it('times out slow responses and counts them as failures', async () => {
    const { srv, reporter, telemetry } = await setup(() => {
      /* never answers */
    }, 150);
    const started = Date.now();
    const out = await reporter.send('register', REG, signal);
    expect(out).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/timed out/) });
    expect(srv.requests).toHaveLength(5);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await metric(telemetry, 'vantage_agent_reports_failed_total')).toContain('reason="timeout"} 5');
  });

  it('does not retry a 400 (the body is wrong, not the server) and does not trip the breaker', async () => {
    const { srv, reporter, lines } = await setup((_req, res) =>
      json(res, 400, { error: 'must be greater than 0', field: 'total_memory_gb' }),
    );
    const out = await reporter.cycle(() => REG, () => STATS, signal);
    expect(out).toEqual({ kind: 'rejected', status: 400, error: 'must be greater than 0 (total_memory_gb)' });
    expect(srv.requests).toHaveLength(1);
    expect(reporter.breaker.state).toBe('closed');
    expect(lines.some((l) => l.msg === 'server rejected registration' && l.level === 50)).toBe(true);
  });

  it('survives a server that is gone (connection refused) without throwing', async () => {
    const { srv, reporter } = await setup();
    await srv.close();
    const out = await reporter.cycle(() => REG, () => STATS, signal);
    expect(out.kind).toBe('failed');
    expect(out.kind === 'failed' && out.reason).toMatch(/ECONNREFUSED/);
  });

  it('stops retrying when aborted', async () => {
    const srv = await scriptedServer((_req, res) => json(res, 500, {}));
    cleanups.push(srv.close);
    const transport = createTransport({ serverUrl: srv.url, serverKey: '', insecureTls: false, timeoutMs: 1000 });
    cleanups.push(() => transport.close());
    const ac = new AbortController();
    const reporter = new Reporter({
      transport,
      logger: captureLogger().logger,
      now: () => 0,
      sleep: async () => ac.abort(),
    });
    expect(await reporter.send('stats', STATS, ac.signal)).toEqual({ kind: 'aborted' });
    expect(srv.requests).toHaveLength(1);
  });

  it('sends concurrent reports safely (one breaker, independent requests)', async () => {
    const { srv, reporter } = await setup(fakeVantage(new Set(['c-1'])));
    const outs = await Promise.all(Array.from({ length: 20 }, () => reporter.send('stats', STATS, signal)));
    expect(outs.every((o) => o.kind === 'ok')).toBe(true);
    expect(srv.requests).toHaveLength(20);
  });
});
