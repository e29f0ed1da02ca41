import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ConnectError, Code } from '@connectrpc/connect';
import { startMonitoringPlane, type MonitoringHandle } from '../../src/app/monitoring.js';
import type { MonitoringConfig } from '../../src/config/monitoring.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Http2SessionManager } from '@connectrpc/connect-node';
import { selfSignedCert } from '../checks/helpers/certs.js';
import { SimWorker } from './sim-worker.js';
import { spec, tempStore, waitFor, type TempStore } from './helpers.js';

const logger = pino({ level: 'silent' });
let t: TempStore | null = null;
let mon: MonitoringHandle | null = null;
const workers: SimWorker[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) await w.kill().catch(() => undefined);
  await mon?.stop();
  mon = null;
  t?.close();
  t = null;
});

async function start(config: Partial<MonitoringConfig> = {}) {
  t = tempStore();
  mon = await startMonitoringPlane({
    config: { host: '127.0.0.1', worker_port: 0, cluster_token: 'tok', scheduler_interval_ms: 50, ...config },
    logger,
    store: t.store,
    leader: t.leader,
    registry: new Registry(),
    tuning: { dispatchIntervalMs: 20, streamCheckIntervalMs: 50 },
  });
  return { mon, t, baseUrl: `http://127.0.0.1:${mon.workerPort}` };
}

function worker(o: ConstructorParameters<typeof SimWorker>[0]): SimWorker {
  const w = new SimWorker(o);
  workers.push(w);
  return w;
}

describe('worker stream', () => {
  it('register, lease, result, ack (idempotent), lease renewal and ping/pong with a clock estimate', async () => {
    const { mon, baseUrl } = await start();
    const w = worker({ baseUrl, token: 'tok', region: 'eu' });
    w.register();
    const reg = await waitFor(() => w.registration, { what: 'register response' });
    expect(reg.accepted).toBe(true);
    expect(reg.workerId).toMatch(/^wrk_/);
    expect(reg.leaseTimeoutMs).toBe(45_000n);
    expect(reg.dispatchLeadMs).toBe(2_000n);
    // an immediate ping; after our pong a second one carrying the offset estimate
    const withClock = await waitFor(() => w.pings.find((p) => p.clockOffsetMs !== undefined), { what: 'ping with clock offset' });
    expect(Math.abs(withClock.clockOffsetMs!)).toBeLessThan(1_000);
    expect(withClock.rttMs!).toBeGreaterThanOrEqual(0);

    await mon.store.createMonitor(spec({ interval_ms: 5_000, regions: ['eu'], url: 'http://example.test/', assertions: ['status == 200'], assertions_compiled: [{ type: 'status', op: '==', value: 200 }] }), {
      id: 'mon_1',
      actor: 't',
      now: Date.now(),
      jitterSeed: 1,
    });
    w.requestJobs(10);
    const job = await waitFor(() => w.jobs[0], { what: 'a job' });
    expect(job).toMatchObject({ monitorId: 'mon_1', region: 'eu', attempt: 1, type: 'http', url: 'http://example.test/', method: 'GET' });
    expect(JSON.parse(job.assertionsJson)).toEqual([{ type: 'status', op: '==', value: 200 }]);
    expect(Number(job.leaseExpiresAtMs) - Date.now()).toBeGreaterThan(40_000);
    expect(Math.abs(Number(job.scheduledAtMs) - Date.now())).toBeLessThan(5_000);

    w.renew([job.runId, 'not-mine']);
    const renewed = await waitFor(() => w.renewals[0], { what: 'lease renewed' });
    expect(renewed.runIds).toEqual([job.runId]);
    expect(renewed.lostRunIds).toEqual(['not-mine']);

    const r = w.sendResult(job, { totalMs: 12.5 });
    await waitFor(() => w.acks.length === 1, { what: 'ack' });
    expect(w.acks[0]).toMatchObject({ runId: job.runId, eventAtMs: r.eventAtMs, committed: true, reason: '' });
    w.send({ msg: { case: 'result', value: r } });
    await waitFor(() => w.acks.length === 2, { what: 'second ack' });
    expect(w.acks[1]).toMatchObject({ runId: job.runId, committed: true });
    expect(await mon.store.listResults({ monitorId: 'mon_1', limit: 10 })).toHaveLength(1);
    expect((await mon.store.getJob(job.runId))!.status).toBe('done');

    // an invalid result is refused, not stored
    w.sendResult(job, { status: 'sideways', eventAtMs: 1n });
    await waitFor(() => w.acks.length === 3, { what: 'invalid ack' });
    expect(w.acks[2]).toMatchObject({ committed: false, reason: 'invalid' });

    expect((await mon.store.getWorker(reg.workerId))!.region).toBe('eu');
    expect(mon.streams.get(reg.workerId)).toBeDefined();
    await w.close();
    await waitFor(() => mon.streams.size === 0, { what: 'stream removed' });
  });

  it('a worker that half-closes after sending results still gets their acks, then the stream ends', async () => {
    const { mon, baseUrl } = await start();
    for (let i = 0; i < 50; i++) await mon.store.createMonitor(spec({ interval_ms: 5_000 }), { id: `mon_${i}`, actor: 't', now: Date.now(), jitterSeed: i });
    const w = worker({ baseUrl, token: 'tok', workerId: 'w-half' });
    w.register();
    w.requestJobs(50);
    await waitFor(() => w.jobs.length === 50, { what: '50 jobs' });
    for (const job of w.jobs) w.sendResult(job);
    w.renew(w.jobs.map((j) => j.runId));
    await w.close(); // half-close right away, then wait for the server to end the stream
    expect(w.endError).toBeNull();
    expect(w.acks).toHaveLength(50);
    expect(w.acks.every((a) => a.committed)).toBe(true);
    expect(w.renewals).toHaveLength(1);
    expect(mon.streams.get('w-half')).toBeUndefined();
  });

  it('rejects a wrong or missing token, and a stream that does not register first', async () => {
    const { baseUrl } = await start();
    const bad = worker({ baseUrl, token: 'nope' });
    bad.register();
    await waitFor(() => bad.ended, { what: 'stream end' });
    expect(ConnectError.from(bad.endError).code).toBe(Code.Unauthenticated);
    const none = worker({ baseUrl });
    none.register();
    await waitFor(() => none.ended, { what: 'stream end' });
    expect(ConnectError.from(none.endError).code).toBe(Code.Unauthenticated);

    const rude = worker({ baseUrl, token: 'tok' });
    rude.requestJobs(5);
    await waitFor(() => rude.ended, { what: 'stream end' });
    expect(ConnectError.from(rude.endError).message).toMatch(/first message must be register/);
  });

  it('refuses a revoked worker id, and a newer stream of the same worker replaces the older one', async () => {
    const { mon, baseUrl } = await start();
    await mon.store.upsertWorker({ id: 'w-bad', hostname: '', region: 'global', version: '', capabilities: [] }, Date.now());
    await mon.store.revokeWorker('w-bad', 'key leaked', Date.now());
    const revoked = worker({ baseUrl, token: 'tok', workerId: 'w-bad' });
    revoked.register();
    await waitFor(() => revoked.registration, { what: 'register response' });
    expect(revoked.registration!.accepted).toBe(false);
    expect(revoked.registration!.reason).toMatch(/revoked: key leaked/);
    await waitFor(() => revoked.ended, { what: 'stream end' });

    const a = worker({ baseUrl, token: 'tok', workerId: 'w-1' });
    a.register();
    await waitFor(() => a.registration?.accepted, { what: 'a registered' });
    const b = worker({ baseUrl, token: 'tok', workerId: 'w-1' });
    b.register();
    await waitFor(() => b.registration?.accepted, { what: 'b registered' });
    await waitFor(() => a.ended, { what: 'older stream closed' });
    expect(mon.streams.get('w-1')).toBeDefined();
  });

  it('a worker that stops answering pings is dropped and its jobs are re-leased to another worker', async () => {
    const { mon, baseUrl } = await start({
      stream_ping_interval_seconds: 1,
      stream_pong_timeout_seconds: 1,
      lease_timeout_seconds: 1,
      reaper_interval_seconds: 1,
    });
    await mon.store.createMonitor(spec({ interval_ms: 10_000 }), { id: 'mon_1', actor: 't', now: Date.now(), jitterSeed: 1 });
    const silent = worker({ baseUrl, token: 'tok', workerId: 'silent', answerPings: false });
    silent.register();
    await waitFor(() => silent.registration?.accepted, { what: 'silent registered' });
    silent.requestJobs(1);
    const job = await waitFor(() => silent.jobs[0], { what: 'job for the silent worker' });

    const healthy = worker({ baseUrl, token: 'tok', workerId: 'healthy' });
    healthy.register();
    await waitFor(() => healthy.registration?.accepted, { what: 'healthy registered' });
    healthy.requestJobs(1);

    await waitFor(() => silent.ended, { what: 'silent stream closed', timeoutMs: 10_000 });
    expect(ConnectError.from(silent.endError).message).toMatch(/pong timeout/);
    const again = await waitFor(() => healthy.jobs.find((j) => j.runId === job.runId), { what: 're-leased job', timeoutMs: 10_000 });
    expect(again.attempt).toBe(2);
    healthy.sendResult(again);
    await waitFor(() => healthy.acks[0], { what: 'ack' });
    expect(healthy.acks[0]!.committed).toBe(true);

    // The dropped worker comes back with its late result: refused, not stored.
    const back = worker({ baseUrl, token: 'tok', workerId: 'silent' });
    back.register();
    await waitFor(() => back.registration?.accepted, { what: 'silent re-registered' });
    back.sendResult(job);
    await waitFor(() => back.acks[0], { what: 'ack for the late result' });
    expect(back.acks[0]).toMatchObject({ committed: false, reason: 'lease_lost' });
    const rows = await mon.store.listResults({ monitorId: 'mon_1', limit: 10 });
    expect(rows.map((r) => r.worker_id)).toEqual(['healthy']);
  });

  it('serves TLS (h2) when tls_cert_file and tls_key_file are set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-tls-'));
    const { cert, key } = selfSignedCert();
    writeFileSync(join(dir, 'cert.pem'), cert);
    writeFileSync(join(dir, 'key.pem'), key);
    const { mon } = await start({ tls_cert_file: join(dir, 'cert.pem'), tls_key_file: join(dir, 'key.pem') });
    rmSync(dir, { recursive: true, force: true }); // read at start
    const baseUrl = `https://localhost:${mon.workerPort}`;
    const session = new Http2SessionManager(baseUrl, undefined, { ca: cert });
    const w = worker({ baseUrl, token: 'tok', session });
    w.register();
    await waitFor(() => w.registration?.accepted, { what: 'registration over TLS' });
    await w.close();
    session.abort();
    // a cleartext client cannot talk to the TLS port
    const plain = worker({ baseUrl: `http://127.0.0.1:${mon.workerPort}`, token: 'tok' });
    plain.register();
    await waitFor(() => plain.ended, { what: 'cleartext client refused' });
    expect(plain.registration).toBeNull();
  });

  it('a worker port already in use fails the start, after stopping the loops it started', async () => {
    const { mon: first } = await start();
    const logs: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line).msg) });
    await expect(
      startMonitoringPlane({ config: { host: '127.0.0.1', worker_port: first.workerPort, cluster_token: 'tok' }, logger, store: t!.store, leader: t!.leader, registry: new Registry() }),
    ).rejects.toThrow(/EADDRINUSE/);
    expect(logs).toContain('monitoring control plane stopped');
    expect(logs).not.toContain('monitoring control plane started');
  });
});
