/**
 * DashboardService, FleetService and MonitorsService's list filters over Connect JSON on a real loopback server,
 * on a real SQLite file and the real routing engine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { DashboardService } from '../../src/gen/vantage/v1/dashboard_pb.js';
import { FleetService } from '../../src/gen/vantage/v1/fleet_pb.js';
import { MonitorsService } from '../../src/gen/vantage/v1/monitors_pb.js';
import { gpu, registration, stats } from '../support/synthetic.js';
import { spec } from '../store/contract/fixtures.js';
import { webFixture, type WebFixture } from './helpers.js';

let f: WebFixture;
beforeEach(async () => {
  f = await webFixture();
});
afterEach(async () => {
  await f.close();
});

async function rpcError(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error('expected the call to fail');
}

describe('DashboardService', () => {
  it('counts monitors and groups workers by region with a state', async () => {
    const meta = { actor: 't', now: f.clock.now(), jitterSeed: 1 };
    await f.store.monitoring.createMonitor(spec({ name: 'a' }), { id: 'a', ...meta });
    await f.store.monitoring.createMonitor(spec({ name: 'b', enabled: false }), { id: 'b', ...meta });
    await f.store.monitoring.upsertWorker({ id: 'w1', hostname: 'h1', region: 'eu', version: '1', capabilities: [] }, f.clock.now());
    await f.store.monitoring.upsertWorker({ id: 'w2', hostname: 'h2', region: 'us', version: '1', capabilities: [] }, f.clock.now());
    await f.store.monitoring.revokeWorker('w2', 'test', f.clock.now());
    const dash = f.client(DashboardService);
    const o = await dash.getOverview({});
    expect([o.monitorsTotal, o.monitorsUp, o.monitorsPaused, o.monitorsPending, Number(o.runs24h)]).toEqual([2, 0, 1, 1, 0]);
    const r = await dash.getRegionHealth({});
    expect(r.regions.map((x) => [x.region, x.state, x.revoked, x.workers.length])).toEqual([
      ['eu', 'down', 0, 1],
      ['us', 'down', 1, 1],
    ]);
  });
});

describe('FleetService', () => {
  it('lists backends with per-core CPU, GPUs, reservations and sticky counts, and explains a tier', async () => {
    f.engine.register(registration('b1', { lat: 52.5, lon: 13.4, gpus: 1 }), f.clock.now());
    f.engine.reportStats('b1', stats({ cpu: [5, 50, 95, 20, 10, 10, 10, 10], gpus: [{ ...gpu(0, 40, 10, 80), temperatureC: 61, powerDrawW: 250 }], timestamp: f.clock.now() }), f.clock.now());
    f.engine.register(registration('b2', { lat: 40.7, lon: -74 }), f.clock.now());
    const routed = f.engine.route({ tier: 'small', stickyId: 'sess-1', lat: 52.5, lon: 13.4 });
    expect(routed.ok).toBe(true);
    const fleet = f.client(FleetService);
    const l = await fleet.listBackends({});
    expect(l.backends.map((b) => b.clientId)).toEqual(['b1', 'b2']);
    const b1 = l.backends[0]!;
    expect(b1.cpuUsagePct).toEqual([5, 50, 95, 20, 10, 10, 10, 10]);
    expect(b1.gpus[0]).toMatchObject({ deviceId: 0, utilizationPct: 40, memoryTotalGb: 80, temperatureC: 61, powerDrawW: 250 });
    expect([b1.reservationCount, b1.stickyCount, b1.reservations[0]?.tier]).toEqual([1, 1, 'small']);
    expect(l.backends[1]!.hasStats).toBe(false);
    expect([l.total, l.reservations]).toEqual([2, 1]);

    const ex = await fleet.explain({ tier: 'medium', latitude: 48.8, longitude: 2.3 });
    expect(ex.ok).toBe(true);
    expect(ex.clientId).toBe('b1');
    expect(ex.rows.find((r) => r.clientId === 'b2')).toMatchObject({ eligible: false, reason: 'no_stats' });
    expect(ex.rows.find((r) => r.clientId === 'b1')!.terms!.distanceKm).toBeGreaterThan(800);
    // Explain reserves nothing.
    expect((await fleet.listBackends({})).reservations).toBe(1);

    expect((await rpcError(fleet.explain({ tier: 'huge' }))).message).toMatch(/tier: unknown tier "huge", expected one of small/);
    expect((await rpcError(fleet.explain({ latitude: 10 }))).message).toMatch(/latitude and longitude: give both/);
    expect((await rpcError(fleet.explain({ latitude: 91, longitude: 0 }))).code).toBe(Code.InvalidArgument);
  });
});

describe('MonitorsService list filters', () => {
  it('searches, filters and pages, returning summaries and the total', async () => {
    const meta = { actor: 't', now: f.clock.now(), jitterSeed: 1 };
    for (let i = 0; i < 30; i++) {
      await f.store.monitoring.createMonitor(spec({ name: `svc-${i}`, url: `https://s${i}.example/`, type: i % 2 ? 'tcp' : 'http', regions: [i < 10 ? 'eu' : 'us'] }), {
        id: `m${String(i).padStart(2, '0')}`,
        ...meta,
      });
    }
    const mon = f.client(MonitorsService);
    const p1 = await mon.listMonitors({ region: 'us', type: 'http', limit: 4, withSummary: true });
    expect(p1.monitors.map((m) => m.id)).toEqual(['m10', 'm12', 'm14', 'm16']);
    expect(p1.total).toBe(10);
    expect(p1.summaries.map((s) => [s.monitorId, s.status, s.recent.length, s.uptime24hPct])).toEqual([
      ['m10', 'pending', 0, undefined],
      ['m12', 'pending', 0, undefined],
      ['m14', 'pending', 0, undefined],
      ['m16', 'pending', 0, undefined],
    ]);
    const p2 = await mon.listMonitors({ region: 'us', type: 'http', limit: 4, pageToken: p1.nextPageToken });
    expect(p2.monitors.map((m) => m.id)).toEqual(['m18', 'm20', 'm22', 'm24']);
    expect((await mon.listMonitors({ search: 'S2.EXAMPLE' })).monitors.map((m) => m.id)).toEqual(['m02']);
    expect((await mon.listMonitors({ statuses: ['paused'] })).total).toBe(0);
    // Without filters the list is as before.
    expect((await mon.listMonitors({ limit: 1000 })).monitors).toHaveLength(30);
    expect((await rpcError(mon.listMonitors({ statuses: ['sideways'] }))).message).toBe('[invalid_argument] statuses: expected any of up, down, paused, pending, got "sideways"');
    expect((await rpcError(mon.listMonitors({ search: 'x'.repeat(201) }))).message).toMatch(/search: at most 200 characters/);
    expect((await rpcError(mon.listMonitors({ search: 'x', includeDeleted: true }))).code).toBe(Code.InvalidArgument);
  });

  it('answers concurrent filtered pages consistently', async () => {
    const meta = { actor: 't', now: f.clock.now(), jitterSeed: 1 };
    for (let i = 0; i < 20; i++) await f.store.monitoring.createMonitor(spec({ name: `n${i}` }), { id: `c${String(i).padStart(2, '0')}`, ...meta });
    const mon = f.client(MonitorsService);
    const answers = await Promise.all(Array.from({ length: 20 }, () => mon.listMonitors({ search: 'n1', limit: 5 })));
    for (const a of answers) expect(a.monitors.map((m) => m.id)).toEqual(['c01', 'c10', 'c11', 'c12', 'c13']);
  });
});
