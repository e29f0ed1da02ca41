/** GET /api/live (SSE) on a plain loopback server: events, auth, method, and clients that go away. */
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLiveStream, type LiveStream } from '../../src/api/web/live.js';
import type { StoredListener } from '../../src/monitoring/control/ingest.js';
import { registration, stats } from '../support/synthetic.js';
import { spec } from '../store/contract/fixtures.js';
import { manualTimers, webFixture, type WebFixture } from './helpers.js';

let f: WebFixture;
let live: LiveStream;
let timers: ReturnType<typeof manualTimers>;
let stored: StoredListener | null;

beforeEach(async () => {
  f = await webFixture();
  timers = manualTimers();
  stored = null;
  live = createLiveStream({
    dashboard: f.store.dashboard,
    engine: f.engine,
    now: f.clock.now,
    timers,
    onStored: (l) => (stored = l),
  });
  // The principal: this plain server treats a request with `x-user` as signed in.
  f.routes.push((req, res) => live.route(req, res, req.headers['x-user'] ? { kind: 'user' } : null));
});
afterEach(async () => {
  live.close();
  await f.close();
});

/** Reads SSE events from a GET /api/live response until `want` events arrived. */
function open(headers: Record<string, string> = { 'x-user': 'u' }) {
  const events: Array<{ event: string; data: string }> = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  let statusCode = 0;
  let res: http.IncomingMessage | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    const req = http.get(`${f.url}/api/live`, { headers }, (r) => {
      res = r;
      statusCode = r.statusCode ?? 0;
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev !== undefined && data !== undefined) events.push({ event: ev, data });
          for (const w of waiters.splice(0)) w();
        }
      });
      resolve();
    });
    req.on('error', reject);
  });
  const until = async (pred: () => boolean): Promise<void> => {
    while (!pred()) await new Promise<void>((r) => waiters.push(r));
  };
  return { ready, events, until, status: () => statusCode, close: () => res?.destroy() };
}

describe('GET /api/live', () => {
  it('sends fleet and overview at once, again on each tick, and a result event per stored result', async () => {
    f.engine.register(registration('b1'), f.clock.now());
    f.engine.reportStats('b1', stats({ cpu: [1, 2, 3, 4], timestamp: f.clock.now() }), f.clock.now());
    await f.store.monitoring.createMonitor(spec({ name: 'a' }), { id: 'a', actor: 't', now: f.clock.now(), jitterSeed: 1 });
    const c = open();
    await c.ready;
    expect(c.status()).toBe(200);
    await c.until(() => c.events.some((e) => e.event === 'overview') && c.events.some((e) => e.event === 'fleet'));
    const fleet = JSON.parse(c.events.find((e) => e.event === 'fleet')!.data) as { backends: Array<{ clientId: string; cpuUsagePct: number[] }> };
    expect(fleet.backends[0]).toMatchObject({ clientId: 'b1', cpuUsagePct: [1, 2, 3, 4] });
    const ov = JSON.parse(c.events.find((e) => e.event === 'overview')!.data) as { monitorsTotal: number; monitorsPending: number };
    expect(ov).toMatchObject({ monitorsTotal: 1, monitorsPending: 1 });

    f.engine.reportStats('b1', stats({ cpu: [9, 9, 9, 9], timestamp: f.clock.now() }), f.clock.now());
    const before = c.events.length;
    timers.fire();
    await c.until(() => c.events.slice(before).some((e) => e.event === 'fleet' && e.data.includes('[9,9,9,9]')));

    stored!({ monitorId: 'a', region: 'eu' }, { run_id: 'r1', event_at: 5, status: 'down', http_code: 500, total_ms: 12, error_class: 'http_status' } as never);
    await c.until(() => c.events.some((e) => e.event === 'result'));
    expect(JSON.parse(c.events.find((e) => e.event === 'result')!.data)).toMatchObject({ monitorId: 'a', status: 'down', httpCode: 500 });
    c.close();
  });

  it('refuses a caller without a principal and a method other than GET, and forgets closed clients', async () => {
    const anon = await fetch(`${f.url}/api/live`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual({ error: 'not signed in' });
    const post = await fetch(`${f.url}/api/live`, { method: 'POST', headers: { 'x-user': 'u' } });
    expect(post.status).toBe(405);
    const clients = [open(), open(), open()];
    await Promise.all(clients.map((c) => c.ready));
    await Promise.all(clients.map((c) => c.until(() => c.events.length > 0)));
    expect(live.clients()).toBe(3);
    for (const c of clients) c.close();
    while (live.clients() > 0) await new Promise<void>((r) => setImmediate(r));
    expect(live.clients()).toBe(0);
    // Ticks with nobody listening compute nothing and keep rescheduling.
    timers.fire();
    await new Promise<void>((r) => setImmediate(r));
    expect(timers.pending()).toBeGreaterThan(0);
  });

  it('sends an incidents event when an incident opens or changes (read from the store), and none while nothing changes', async () => {
    const t = manualTimers();
    const withIncidents = createLiveStream({ now: f.clock.now, timers: t, incidents: f.store.alerts });
    const route = (req: http.IncomingMessage, res: http.ServerResponse) => withIncidents.route(req, res, { kind: 'user' });
    f.routes.unshift(route);
    // One tick of every loop, run to its end (each reschedules itself when done).
    const tick = async () => {
      const n = t.pending();
      t.fire();
      while (t.pending() < n) await new Promise<void>((r) => setImmediate(r));
    };
    try {
      const c = open();
      await c.ready;
      while (withIncidents.clients() === 0) await new Promise<void>((r) => setImmediate(r));
      // The fingerprint of the (empty) list is taken when the stream opens, so a change before the first tick
      // is still a change.
      const inc = await f.store.alerts.createManualIncident({ title: 'DB down', status: 'investigating', impact: 'major', monitorIds: [], statusPageSlug: null, message: 'looking', at: f.clock.now() });
      await tick();
      await c.until(() => c.events.some((e) => e.event === 'incidents'));
      expect(JSON.parse(c.events.find((e) => e.event === 'incidents')!.data)).toEqual({ open: 1, atMs: f.clock.now() });
      await tick();
      await tick();
      expect(c.events.filter((e) => e.event === 'incidents')).toHaveLength(1);
      await f.store.alerts.acknowledge(inc.id, 'user:admin', f.clock.now());
      await tick();
      await c.until(() => c.events.filter((e) => e.event === 'incidents').length === 2);
      c.close();
    } finally {
      f.routes.splice(f.routes.indexOf(route), 1);
      withIncidents.close();
    }
  });
});
