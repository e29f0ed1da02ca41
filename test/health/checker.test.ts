import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthChecker, startHealthChecker, type HealthCheckerOptions, type Timers } from '../../src/lb/health/index.js';
import { addBackend, listen, makeEngine, startProxy, waitFor, type Started } from '../proxy/helpers.js';
import type { RoutingEngine } from '../../src/lb/routing/index.js';
import { loadServerConfigForTest } from './config.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function checker(engine: RoutingEngine, over: Partial<HealthCheckerOptions> = {}): HealthChecker {
  const c = new HealthChecker({
    engine,
    type: 'tcp',
    intervalMs: 10_000,
    timeoutMs: 1_000,
    path: '/health',
    thresholds: { healthy: 2, unhealthy: 3 },
    concurrency: 8,
    ...over,
  });
  cleanups.push(() => c.stop());
  return c;
}

/** An HTTP backend whose /health status is settable; restartable on the same port. */
async function httpBackend() {
  const state = { status: 200, hits: 0 };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/health') state.hits++;
    res.statusCode = req.url === '/health' ? state.status : 200;
    if (state.status >= 300 && state.status < 400) res.setHeader('location', '/elsewhere');
    res.end('x');
  };
  let s: Started = await listen(handler);
  const port = s.port;
  const b = {
    state,
    url: s.url,
    stop: () => s.close(),
    restart: async () => {
      s = await listen(handler, port);
    },
  };
  cleanups.push(() => s.close());
  return b;
}

describe('health checker: transitions against a real backend', () => {
  for (const type of ['tcp', 'http'] as const) {
    it(`${type}: unknown → healthy → unhealthy → healthy as the backend stops and restarts`, async () => {
      const be = await httpBackend();
      const engine = makeEngine();
      addBackend(engine, 'A', be.url);
      const hc = checker(engine, { type });
      const health = () => engine.backend('A')!.health;

      expect(health()).toBe('unknown');
      await hc.checkNow();
      expect(health()).toBe('unknown');
      expect(engine.backend('A')!.latencyMs).toEqual(expect.any(Number));
      await hc.checkNow();
      expect(health()).toBe('healthy');

      await be.stop();
      await hc.checkNow();
      await hc.checkNow();
      expect(health()).toBe('healthy');
      await hc.checkNow();
      expect(health()).toBe('unhealthy');
      expect(hc.snapshot('A')).toMatchObject({ status: 'unhealthy', consecutiveFailures: 3, lastError: expect.any(String) });

      await be.restart();
      await hc.checkNow();
      expect(health()).toBe('unhealthy');
      await hc.checkNow();
      expect(health()).toBe('healthy');
      expect(hc.snapshot('A')).toMatchObject({ status: 'healthy', lastCheckMs: expect.any(Number), lastError: null });
    });
  }

  it('http: 2xx and 3xx are healthy, 4xx and 5xx are not; probes hit health_check_path', async () => {
    const be = await httpBackend();
    const engine = makeEngine();
    addBackend(engine, 'A', be.url);
    const hc = checker(engine, { type: 'http', thresholds: { healthy: 1, unhealthy: 1 } });
    const seq: Array<[number, string]> = [
      [200, 'healthy'],
      [500, 'unhealthy'],
      [302, 'healthy'],
      [404, 'unhealthy'],
      [204, 'healthy'],
      [503, 'unhealthy'],
    ];
    for (const [status, expected] of seq) {
      be.state.status = status;
      await hc.checkNow();
      expect([status, engine.backend('A')!.health]).toEqual([status, expected]);
    }
    expect(be.state.hits).toBe(seq.length);
  });

  it('feeds latency samples into the engine EWMA', async () => {
    const be = await httpBackend();
    const engine = makeEngine();
    addBackend(engine, 'A', be.url);
    const hc = checker(engine, { type: 'http' });
    await hc.checkNow();
    const first = engine.backend('A')!.latencyMs!;
    expect(first).toBeGreaterThan(0);
    expect(hc.snapshot('A')!.latencyMs).toBeCloseTo(first, 6);
    await hc.checkNow();
    // engine and checker agree on the EWMA (α = 0.3)
    expect(engine.backend('A')!.latencyMs).toBeCloseTo(hc.snapshot('A')!.latencyMs!, 6);
  });

  it('drops sticky assignments of a backend that turns unhealthy', async () => {
    const a = await httpBackend();
    const b = await httpBackend();
    const engine = makeEngine();
    addBackend(engine, 'A', a.url, { cpu: 5 });
    addBackend(engine, 'B', b.url, { cpu: 50 });
    const hc = checker(engine, { thresholds: { healthy: 1, unhealthy: 2 } });
    await hc.checkNow();
    const d = engine.route({ tier: 'a', stickyId: 'sess' });
    expect(d).toMatchObject({ ok: true, clientId: 'A' });
    expect(engine.stickyAssignments().map((s) => s.clientId)).toEqual(['A']);
    await a.stop();
    await hc.checkNow();
    expect(engine.stickyAssignments()).toHaveLength(1);
    await hc.checkNow();
    expect(engine.backend('A')!.health).toBe('unhealthy');
    expect(engine.stickyAssignments().filter((s) => s.clientId === 'A')).toEqual([]);
    expect(engine.route({ tier: 'a', stickyId: 'sess' })).toMatchObject({ ok: true, clientId: 'B' });
  });

  it('counts an invalid endpoint as a failure and forgets removed backends', async () => {
    const engine = makeEngine();
    addBackend(engine, 'BAD', 'not a url');
    const hc = checker(engine, { thresholds: { healthy: 1, unhealthy: 1 } });
    await hc.checkNow();
    expect(engine.backend('BAD')!.health).toBe('unhealthy');
    expect(hc.snapshot('BAD')!.lastError).toBe('invalid endpoint URL');
    engine.remove('BAD');
    await hc.checkNow();
    expect(hc.snapshot('BAD')).toBeUndefined();
  });
});

describe('health checker: concurrency and scheduling', () => {
  it('bounds probes in flight and never piles up probes of a hanging backend', async () => {
    // HTTP servers that accept connections and never answer
    let open = 0;
    let accepted = 0;
    const acceptedAt: number[] = [];
    const servers: Server[] = [];
    const sockets = new Set<Socket>();
    const engine = makeEngine();
    for (let i = 0; i < 5; i++) {
      const srv = createServer((sock) => {
        accepted++;
        acceptedAt.push(Date.now());
        open++;
        sockets.add(sock);
        sock.resume(); // read, so that the client's close is seen
        sock.on('close', () => (open--, sockets.delete(sock)));
        sock.on('error', () => {});
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      servers.push(srv);
      addBackend(engine, `H${i}`, `http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
    }
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
    });
    const hc = checker(engine, { type: 'http', concurrency: 2, timeoutMs: 150, thresholds: { healthy: 2, unhealthy: 1 } });
    const t0 = Date.now();
    // four overlapping rounds: each backend is still queued or in flight, so none is probed twice
    const rounds = [hc.checkNow(), hc.checkNow(), hc.checkNow(), hc.checkNow()];
    expect(hc.inFlight()).toBeLessThanOrEqual(2);
    await Promise.all(rounds);
    const took = Date.now() - t0;
    expect(accepted).toBe(5);
    // at most 2 probes at once: any 3 consecutive connections span at least one probe timeout (150 ms)
    for (let i = 0; i + 2 < acceptedAt.length; i++) expect(acceptedAt[i + 2]! - acceptedAt[i]!).toBeGreaterThanOrEqual(120);
    // 5 probes, 2 at a time, 150 ms each → 3 waves
    expect(took).toBeGreaterThanOrEqual(400);
    for (let i = 0; i < 5; i++) expect(engine.backend(`H${i}`)!.health).toBe('unhealthy');
    expect(hc.snapshot('H0')!.lastError).toBe('timeout');
    await waitFor(() => open === 0, 'timed-out probe connections closed');
  });

  it('schedules rounds every interval with the injected timers', async () => {
    let probes = 0;
    const be = await listen((_req, res) => {
      probes++;
      res.end();
    });
    cleanups.push(() => be.close());
    const engine = makeEngine();
    addBackend(engine, 'A', be.url);
    const scheduled: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
    const timers: Timers = {
      setTimeout: (fn, ms) => {
        if (ms === 10_000) {
          const t = { fn, ms, cleared: false };
          scheduled.push(t);
          return t;
        }
        const h = setTimeout(fn, ms); // probe timeouts stay real
        return h;
      },
      clearTimeout: (h) => {
        if (h && typeof h === 'object' && 'cleared' in h) (h as { cleared: boolean }).cleared = true;
        else clearTimeout(h as NodeJS.Timeout);
      },
    };
    const hc = checker(engine, { type: 'http', intervalMs: 10_000, timers });
    hc.start();
    await waitFor(() => probes === 1, 'first round at start');
    // The backend counted the probe before the checker read the answer: a round fired while that probe is
    // still in flight skips the backend (one probe per backend at a time), so wait until it has finished.
    await waitFor(() => hc.inFlight() === 0, 'first probe finished');
    expect(scheduled).toHaveLength(1);
    scheduled[0]!.fn();
    await waitFor(() => probes === 2, 'second round after one interval');
    expect(scheduled).toHaveLength(2);
    await hc.stop();
    expect(scheduled[1]!.cleared).toBe(true);
  });

  it('does nothing when health_check_enabled is false', async () => {
    let connections = 0;
    const be = await listen((_req, res) => res.end());
    be.server.on('connection', () => connections++);
    cleanups.push(() => be.close());
    const engine = makeEngine({ healthCheckEnabled: false });
    addBackend(engine, 'A', be.url);
    const h = startHealthChecker({ config: loadServerConfigForTest({ health_check_enabled: false }), engine });
    cleanups.push(() => h.stop());
    await h.checkNow();
    expect(connections).toBe(0);
    expect(h.snapshot('A')).toBeUndefined();
    expect(engine.backend('A')!.health).toBe('unknown');
  });

  it('startHealthChecker maps the config keys and probes at start', async () => {
    const be = await httpBackend();
    const engine = makeEngine();
    addBackend(engine, 'A', be.url);
    const h = startHealthChecker({
      config: loadServerConfigForTest({ health_check_type: 'http', health_check_path: '/health', health_check_healthy_threshold: 1 }),
      engine,
    });
    cleanups.push(() => h.stop());
    await waitFor(() => engine.backend('A')!.health === 'healthy', 'healthy after the first round');
    expect(be.state.hits).toBeGreaterThanOrEqual(1);
  });
});

describe('passive outlier ejection and recovery', () => {
  it('a backend ejected by the proxy stays out until the active checker sees it recover', async () => {
    const be = await httpBackend();
    let appStatus = 500;
    // /health answers the checker (200), other paths answer the proxy with appStatus
    const app = await listen((req, res) => {
      res.statusCode = req.url === '/health' ? 200 : appStatus;
      res.end();
    });
    cleanups.push(() => app.close());
    void be;
    const engine = makeEngine();
    addBackend(engine, 'A', app.url);
    const hc = checker(engine, { type: 'http', thresholds: { healthy: 2, unhealthy: 3 } });
    await hc.checkNow();
    await hc.checkNow();
    expect(engine.backend('A')!.health).toBe('healthy');
    const px = await startProxy(engine, { outlierThreshold: 2 });
    cleanups.push(() => px.close());
    const hit = async () => (await fetch(px.url + '/api/x')).status;
    expect(await hit()).toBe(500);
    expect(await hit()).toBe(500);
    expect(engine.backend('A')!.health).toBe('unhealthy');
    expect(await hit()).toBe(503);
    appStatus = 200;
    await hc.checkNow();
    expect(engine.backend('A')!.health).toBe('unhealthy'); // one success is not enough
    await hc.checkNow();
    expect(engine.backend('A')!.health).toBe('healthy');
    expect(await hit()).toBe(200);
  });
});
