import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Code, ConnectError } from '@connectrpc/connect';
import { startMonitoringPlane, type MonitoringHandle } from '../../src/app/monitoring.js';
import { monitorsClient, runMonitorAdd, runMonitorList, runMonitorRm, runMonitorShow, parseDuration, formatDuration } from '../../src/cli/monitor.js';
import { WorkerActivity } from '../../src/monitoring/control/inactivity.js';
import { SingleNodeLeader } from '../../src/store/sqlite/leader.js';
import { actorFor } from '../../src/auth/api-key.js';
import { result, tempStore, type TempStore } from './helpers.js';
import { BACKEND_PROBE_OWNER } from '../../src/monitoring/domain/system-monitors.js';

let t: TempStore;
let mon: MonitoringHandle;
let server: http.Server;
let base: string;

beforeEach(async () => {
  t = tempStore();
  mon = await startMonitoringPlane({
    config: { host: '127.0.0.1', worker_port: 0, server_key: 'key-1', api_keys: ['key-2'] },
    logger: pino({ level: 'silent' }),
    store: t.store,
    leader: t.leader,
    registry: new Registry(),
  });
  server = http.createServer((req, res) => {
    if (!mon.webHandler(req, res)) {
      res.writeHead(404);
      res.end('not mine');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await mon.stop();
  t.close();
});

const input = (over: Record<string, unknown> = {}) => ({
  name: 'api',
  url: 'http://127.0.0.1:9000/health',
  intervalMs: 30_000n,
  assertions: ['status == 200'],
  ...over,
});

async function rpcError(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to fail');
}

describe('MonitorsService', () => {
  it('create / get / update (mask) / list / delete, each audited with the caller', async () => {
    const c = monitorsClient({ server: base, apiKey: 'key-2' });
    const { monitor } = await c.createMonitor({ monitor: input({ headers: { 'X-A': 'b' }, regions: ['eu', 'us'] }) });
    expect(monitor).toMatchObject({ name: 'api', type: 'http', method: 'GET', intervalMs: 30_000n, timeoutMs: 10_000n, regions: ['eu', 'us'], enabled: true, owner: actorFor('key-2') });
    expect(monitor!.id).toMatch(/^mon_/);
    expect((await c.getMonitor({ id: monitor!.id })).monitor!.headers).toEqual({ 'X-A': 'b' });

    const upd = await c.updateMonitor({ id: monitor!.id, monitor: { intervalMs: 5_000n, name: 'ignored' }, updateMask: ['interval_ms'] });
    expect(upd.monitor).toMatchObject({ intervalMs: 5_000n, name: 'api', assertions: ['status == 200'] });
    expect((await rpcError(c.updateMonitor({ id: monitor!.id, monitor: {}, updateMask: ['colour'] }))).rawMessage).toMatch(/unknown field\(s\) colour/);

    for (let i = 0; i < 3; i++) await c.createMonitor({ monitor: input({ name: `m${i}` }) });
    const p1 = await c.listMonitors({ limit: 2 });
    const p2 = await c.listMonitors({ limit: 2, pageToken: p1.nextPageToken });
    expect(p1.monitors).toHaveLength(2);
    expect(p2.monitors).toHaveLength(2);
    expect(p2.nextPageToken).toBe('');
    expect(new Set([...p1.monitors, ...p2.monitors].map((m) => m.id)).size).toBe(4);

    await c.deleteMonitor({ id: monitor!.id });
    expect((await c.listMonitors({})).monitors).toHaveLength(3);
    expect((await c.listMonitors({ includeDeleted: true })).monitors).toHaveLength(4);
    expect((await rpcError(c.deleteMonitor({ id: monitor!.id }))).code).toBe(Code.NotFound);
    expect((await rpcError(c.updateMonitor({ id: monitor!.id, monitor: input() }))).code).toBe(Code.NotFound);
    expect((await rpcError(c.getMonitor({ id: 'mon_nope' }))).code).toBe(Code.NotFound);

    const audit = await c.listAuditEvents({ entityId: monitor!.id });
    expect(audit.events.map((e) => e.action)).toEqual(['monitor.delete', 'monitor.update', 'monitor.create']);
    expect(audit.events.every((e) => e.actor === actorFor('key-2'))).toBe(true);
    expect(JSON.parse(audit.events[1]!.beforeJson).interval_ms).toBe(30_000);
    expect(JSON.parse(audit.events[1]!.afterJson).interval_ms).toBe(5_000);
  });

  it('keeps system-owned backend probes out of the user list and refuses to edit or delete them', async () => {
    const c = monitorsClient({ server: base, apiKey: 'key-1' });
    const mine = (await c.createMonitor({ monitor: input() })).monitor!;
    const spec = { name: 'probe', type: 'tcp', url: 'tcp://127.0.0.1:9', method: 'GET', headers: {}, body: '', interval_ms: 30_000, timeout_ms: 2_000, assertions: [], assertions_compiled: [], options: {}, regions: ['eu'], enabled: true };
    const probe = await t.store.createMonitor(spec, { id: 'sys-probe.eu.b1.x', actor: BACKEND_PROBE_OWNER, now: Date.now(), jitterSeed: 1 });
    expect(probe.owner).toBe(BACKEND_PROBE_OWNER);
    expect((await c.listMonitors({})).monitors.map((m) => m.id)).toEqual([mine.id]);
    const upd = await rpcError(c.updateMonitor({ id: probe.id, monitor: input({ name: 'mine now' }), updateMask: ['name'] }));
    expect(upd.code).toBe(Code.FailedPrecondition);
    expect(upd.rawMessage).toMatch(/system-owned/);
    expect((await rpcError(c.deleteMonitor({ id: probe.id }))).code).toBe(Code.FailedPrecondition);
    expect((await t.store.getMonitor(probe.id))!.deleted_at).toBeNull();
  });

  it('rejects invalid monitors with InvalidArgument naming the problem (the assertion by index and text)', async () => {
    const c = monitorsClient({ server: base, apiKey: 'key-1' });
    const bad = await rpcError(c.createMonitor({ monitor: input({ assertions: ['status == 200', 'status === 200'] }) }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toMatch(/assertions\[1\] "status === 200"/);
    expect((await rpcError(c.createMonitor({ monitor: input({ url: '' }) }))).rawMessage).toMatch(/url: required/);
    expect((await rpcError(c.createMonitor({ monitor: input({ url: 'ftp://x' }) }))).code).toBe(Code.InvalidArgument);
    expect((await rpcError(c.createMonitor({ monitor: input({ type: 'tcp', url: 'tcp://host' }) }))).rawMessage).toMatch(/port/);
    expect((await rpcError(c.createMonitor({ monitor: input({ intervalMs: 10n }) }))).rawMessage).toMatch(/interval_ms/);
    expect((await rpcError(c.createMonitor({ monitor: input({ regions: ['bad region!'] }) }))).rawMessage).toMatch(/invalid region/);
    expect((await rpcError(c.createMonitor({ monitor: input({ optionsJson: '{nope' }) }))).rawMessage).toMatch(/options_json/);
    expect((await rpcError(c.createMonitor({ monitor: input({ optionsJson: '{"colour":1}' }) }))).code).toBe(Code.InvalidArgument);
    expect((await c.listMonitors({})).monitors).toHaveLength(0);
    expect((await c.listAuditEvents({})).events).toHaveLength(0);
  });

  it('requires a valid X-API-Key, and leaves other paths to the main server', async () => {
    expect((await rpcError(monitorsClient({ server: base, apiKey: '' }).listMonitors({}))).code).toBe(Code.Unauthenticated);
    expect((await rpcError(monitorsClient({ server: base, apiKey: 'wrong' }).listMonitors({}))).code).toBe(Code.Unauthenticated);
    const other = await fetch(`${base}/health`);
    expect(other.status).toBe(404);
    expect(await other.text()).toBe('not mine');
    const raw = await fetch(`${base}/vantage.v1.MonitorsService/ListMonitors`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'key-1' }, body: '{}' });
    expect(raw.status).toBe(200);
    expect(await raw.json()).toEqual({});
  });

  it('serves results, metrics and uptime from stored results and rollups', async () => {
    const c = monitorsClient({ server: base, apiKey: 'key-1' });
    const { monitor } = await c.createMonitor({ monitor: input({ intervalMs: 5_000n }) });
    const id = monitor!.id;
    await mon.runOnce(); // schedules the first job
    const now = Date.now();
    const jobs = await mon.store.leaseJobs({ workerId: 'w', region: 'global', count: 10, now, leadMs: 10_000, leaseMs: 45_000 });
    expect(jobs.length).toBeGreaterThan(0);
    await mon.store.ingestResults(jobs.map((j, i) => ({ workerId: 'w', result: result(j.run_id, now - i, { total_ms: 20 + i }) })), now);
    await mon.runOnce(); // folds rollups
    const res = await c.listResults({ monitorId: id });
    expect(res.results.length).toBe(jobs.length);
    expect(res.results[0]).toMatchObject({ status: 'up', httpCode: 200, workerId: 'w', totalMs: 20 });
    const metrics = await c.getMetrics({ monitorId: id, resolution: '1m' });
    expect(metrics.resolution).toBe('1m');
    expect(metrics.total).toMatchObject({ count: BigInt(jobs.length), upCount: BigInt(jobs.length), errorRate: 0, uptimePct: 100 });
    expect(metrics.total!.p50Ms!).toBeCloseTo(20, -0.5);
    const up = await c.getUptime({ monitorId: id });
    expect(up.last24h!.count).toBe(BigInt(jobs.length));
    expect(up.last30d!.uptimePct).toBe(100);
    expect((await rpcError(c.getMetrics({ monitorId: id, resolution: '5m' }))).code).toBe(Code.InvalidArgument);
    expect((await rpcError(c.listResults({ monitorId: 'mon_none' }))).code).toBe(Code.NotFound);
  });

  it('shows workers, marked inactive after the threshold', async () => {
    const T = Date.now();
    await mon.store.upsertWorker({ id: 'w-old', hostname: 'a', region: 'eu', version: '1', capabilities: [] }, T - 600_000);
    await mon.store.upsertWorker({ id: 'w-new', hostname: 'b', region: 'eu', version: '1', capabilities: [] }, T);
    const activity = new WorkerActivity({ store: mon.store, leader: new SingleNodeLeader(), now: () => T, inactiveAfterMs: 90_000 });
    activity.seen('w-new');
    expect(await activity.tick()).toEqual(['w-old']);
    const { workers } = await monitorsClient({ server: base, apiKey: 'key-1' }).listWorkers({});
    expect(workers.map((w) => [w.id, w.status, w.connected])).toEqual([
      ['w-new', 'active', false],
      ['w-old', 'inactive', false],
    ]);
  });
});

describe('vantage monitor (CLI)', () => {
  function io() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
  }

  it('add, list, show, rm against a running API', async () => {
    const o = { server: base, apiKey: 'key-1' };
    const a = io();
    expect(await runMonitorAdd({ ...o, url: 'http://127.0.0.1:9000/health', interval: '5s', assert: ['status == 200', 'response_time < 500'], header: ['X-Trace: 1'] }, a.io)).toBe(0);
    const id = /created (mon_\w+)/.exec(a.out[0]!)![1]!;
    expect(a.out[0]).toContain('every 5s');

    const l = io();
    expect(await runMonitorList(o, l.io)).toBe(0);
    expect(l.out[0]).toMatch(new RegExp(`${id}\\s+127\\.0\\.0\\.1:9000\\s+http\\s+5s\\s+global\\s+enabled`));

    const s = io();
    expect(await runMonitorShow(id, o, s.io)).toBe(0);
    expect(s.out[0]).toContain('assertions: status == 200 AND response_time < 500');
    expect(s.out[0]).toContain('no results yet');
    const sj = io();
    expect(await runMonitorShow(id, { ...o, json: true }, sj.io)).toBe(0);
    expect(JSON.parse(sj.out[0]!).monitor.intervalMs).toBe(5000);

    const bad = io();
    expect(await runMonitorAdd({ ...o, url: 'http://x', assert: ['status is fine'] }, bad.io)).toBe(2);
    expect(bad.err[0]).toMatch(/assertions\[0\]/);
    const badDur = io();
    expect(await runMonitorAdd({ ...o, url: 'http://x', interval: 'soon' }, badDur.io)).toBe(2);

    const r = io();
    expect(await runMonitorRm(id, o, r.io)).toBe(0);
    expect(await runMonitorRm(id, o, io().io)).toBe(4);
    const l2 = io();
    await runMonitorList(o, l2.io);
    expect(l2.out[0]).toBe('no monitors');
    const unauth = io();
    expect(await runMonitorList({ server: base, apiKey: 'nope' }, unauth.io)).toBe(1);
    expect(unauth.err.join('\n')).toMatch(/VANTAGE_API_KEY/);
  });

  it('parses and prints durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('12')).toBe(12_000);
    expect(() => parseDuration('-5s')).toThrow(/not a duration/);
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1_500)).toBe('1500ms');
  });
});

describe('web handler with the main server key check', () => {
  it('takes the principal the main server established without checking the key again, and checks it itself without one', async () => {
    const { createWebHandler } = await import('../../src/api/web/handler.js');
    const { OPEN } = await import('../../src/auth/principal.js');
    const handler = createWebHandler({ store: mon.store, now: Date.now, auth: { server_key: 'srv', api_keys: ['k'] } });
    // The main server passes the principal for requests under /vantage.v1. ('principal' header: how this test
    // tells the handler that the caller was authenticated upstream).
    const srv = http.createServer((req, res) => void handler(req, res, req.headers.principal === 'open' ? OPEN : undefined));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const upstream = monitorsClient({ server: url, apiKey: 'not-a-key' });
      expect((await upstream.listMonitors({}, { headers: { principal: 'open' } })).monitors).toEqual([]);
      for (const k of ['srv', 'k']) expect((await monitorsClient({ server: url, apiKey: k }).listMonitors({})).monitors).toEqual([]);
      for (const k of ['wrong', '']) expect((await rpcError(monitorsClient({ server: url, apiKey: k }).listMonitors({}))).code).toBe(Code.Unauthenticated);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
