import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMonitoringWorker } from '../../src/agent/worker/worker.js';
import type { MonitoringWorker, MonitoringWorkerConfig, MonitoringWorkerDeps } from '../../src/agent/worker/worker.js';
import { FakeWorkerApi, waitFor } from './helpers/fake-worker-api.js';
import { closedPort, startHttp } from './helpers/servers.js';
import type { Running } from './helpers/servers.js';

const logger = pino({ level: 'silent' });

/** The check target: records when each run's request arrived (real clock = server clock here). */
let target: Running;
const arrivals = new Map<string, number>();
let concurrent = 0;
let maxConcurrent = 0;

beforeAll(async () => {
  target = await startHttp((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const run = url.searchParams.get('run') ?? '';
    arrivals.set(run, Date.now());
    const delay = Number(url.searchParams.get('delay') ?? '0');
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    const finish = () => {
      concurrent--;
      res.end('ok');
    };
    if (delay > 0) {
      const t = setTimeout(finish, delay);
      res.on('close', () => {
        if (!res.writableEnded) {
          clearTimeout(t);
          concurrent--;
        }
      });
    } else finish();
  });
});
afterAll(() => target.close());

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
  concurrent = 0;
  maxConcurrent = 0;
});

function config(url: string, over: Partial<MonitoringWorkerConfig> = {}): MonitoringWorkerConfig {
  return {
    server_url: 'http://127.0.0.1:1',
    server_key: '',
    worker_url: url,
    region: 'eu-west',
    max_concurrent_checks: 4,
    monitoring_enabled: true,
    cluster_token: 'tok',
    insecure_tls: false,
    ...over,
  };
}

async function fake(opts: ConstructorParameters<typeof FakeWorkerApi>[0] = {}): Promise<FakeWorkerApi> {
  const f = await new FakeWorkerApi({ token: 'tok', ...opts }).start();
  cleanups.push(() => f.kill());
  return f;
}

function worker(cfg: MonitoringWorkerConfig, deps: Partial<MonitoringWorkerDeps> = {}): MonitoringWorker {
  const w = startMonitoringWorker(cfg, {
    logger,
    prefetch: 4,
    reconnectBackoff: { baseMs: 20, capMs: 200, jitter: 0 },
    resendBackoff: { baseMs: 20, capMs: 200, jitter: 0 },
    ...deps,
  });
  cleanups.unshift(() => w.stop({ graceMs: 500 }));
  return w;
}

const url = (run: string, delay = 0) => `http://127.0.0.1:${target.port}/?run=${run}${delay ? `&delay=${delay}` : ''}`;

describe('monitoring worker loop against a Connect worker API', () => {
  it('registers with region and token, asks for at most its free slots, and delivers each result once', async () => {
    const api = await fake();
    const w = worker(config(api.url));
    await waitFor(() => w.stats().connected, 'registration');
    expect(api.registrations[0]).toMatchObject({ region: 'eu-west', workerId: '', capabilities: ['http', 'tcp', 'dns', 'tls'], maxConcurrent: 4 });
    await waitFor(() => api.creditsGranted > 0, 'a job request');
    expect(api.creditsGranted).toBe(8); // 4 running + 4 prefetch

    const runs = Array.from({ length: 20 }, (_, i) => `run-${i}`);
    for (const run of runs) api.addJob({ runId: run, url: url(run), assertionsJson: JSON.stringify([{ type: 'status', op: '==', value: 200 }]) });
    await waitFor(() => runs.every((r) => api.committed.has(r)), 'all results committed');
    await waitFor(() => w.stats().unacked === 0, 'all acks processed');
    for (const run of runs) {
      expect(api.commitCount.get(run)).toBe(1);
      const r = api.committed.get(run);
      expect(r?.status).toBe('up');
      expect(r?.httpCode).toBe(200);
      expect(JSON.parse(r?.assertionsJson ?? '')).toEqual([{ assertion: 'status == 200', passed: true, actual: 200 }]);
    }
    // credits never ran ahead of the slots: granted − delivered is what the worker may still receive
    expect(api.creditsGranted - api.jobsDelivered).toBeLessThanOrEqual(8);
    const s = w.stats();
    expect(s).toMatchObject({ checksCompleted: 20, resultsAcked: 20, resultsDropped: 0, running: 0, waiting: 0 });
  });

  it('starts each job at scheduled_at, never earlier, with the clock offset corrected', async () => {
    const api = await fake();
    // The worker's clock runs 5 s ahead of the server's.
    const w = worker(config(api.url), { now: () => Date.now() + 5000 });
    await waitFor(() => w.stats().connected, 'registration');
    // the true offset (5000) lies within the estimate's error bound
    const { clockOffsetMs, clockUncertaintyMs } = w.stats();
    expect(Math.abs(clockOffsetMs - 5000)).toBeLessThanOrEqual(clockUncertaintyMs + 1);
    const base = Date.now();
    const scheduled = [150, 250, 350, 450].map((d) => base + d);
    scheduled.forEach((at, i) => api.addJob({ runId: `skew-${i}`, scheduledAtMs: BigInt(at), url: url(`skew-${i}`) }));
    await waitFor(() => scheduled.every((_, i) => api.committed.has(`skew-${i}`)), 'results');
    scheduled.forEach((at, i) => {
      const arrived = arrivals.get(`skew-${i}`) ?? 0;
      expect(arrived).toBeGreaterThanOrEqual(at); // never early
      expect(arrived - at).toBeLessThan(100); // and not late by the skew
      const r = api.committed.get(`skew-${i}`);
      // event time is reported on the server clock
      expect(Number(r?.eventAtMs)).toBeGreaterThanOrEqual(at - 1);
      expect(Number(r?.eventAtMs) - at).toBeLessThan(100);
    });
    expect(w.stats().lagMs.count).toBe(4);
    expect(w.stats().lagMs.max).toBeLessThan(100);
  });

  it('never runs more than max_concurrent_checks at once', async () => {
    const api = await fake();
    const w = worker(config(api.url, { max_concurrent_checks: 2 }));
    await waitFor(() => w.stats().connected, 'registration');
    const runs = Array.from({ length: 6 }, (_, i) => `conc-${i}`);
    for (const run of runs) api.addJob({ runId: run, url: url(run, 80) });
    await waitFor(() => runs.every((r) => api.committed.has(r)), 'results', 10_000);
    expect(maxConcurrent).toBe(2);
  });

  it('answers pings with its receive and send times and adopts the server offset estimate', async () => {
    const api = await fake();
    const w = worker(config(api.url), { now: () => Date.now() + 2000 });
    await waitFor(() => w.stats().connected, 'registration');
    api.ping({ seq: 7 });
    await waitFor(() => api.pongs.length === 1, 'pong');
    const { pong, t3 } = api.pongs[0] ?? { pong: null, t3: 0 };
    expect(Number(pong?.seq)).toBe(7);
    const t0 = Number(pong?.pingSentAtMs);
    const t1 = Number(pong?.receivedAtMs);
    const t2 = Number(pong?.sentAtMs);
    const serverOffset = (t1 - t0 + (t2 - t3)) / 2; // worker − server, as the server computes it
    expect(serverOffset).toBeGreaterThan(1950);
    expect(serverOffset).toBeLessThan(2050);
    expect(t2).toBeGreaterThanOrEqual(t1);
    // rtt 0: as good as any sample the worker took itself (its clock probe can measure 0 ms on loopback).
    api.ping({ seq: 8, clockOffsetMs: 2000.25, rttMs: 0 });
    await waitFor(() => w.stats().clockOffsetMs === 2000.25, 'offset adopted');
  });

  it('takes a clock sample from each lease renewal (server stamps now + lease length)', async () => {
    const api = await fake({ leaseRenewMs: 30, noServerTime: true });
    const w = worker(config(api.url), { now: () => Date.now() + 7000 });
    await waitFor(() => w.stats().connected, 'registration');
    api.addJob({ runId: 'renew-clock', url: url('renew-clock', 500), timeoutMs: 5000n });
    await waitFor(() => api.renewals.filter((ids) => ids.includes('renew-clock')).length >= 2, 'renewals');
    await waitFor(() => w.stats().clockOffsetMs !== 0, 'a sample');
    const { clockOffsetMs, clockUncertaintyMs } = w.stats();
    expect(Math.abs(clockOffsetMs - 7000)).toBeLessThanOrEqual(clockUncertaintyMs + 1);
    expect(clockUncertaintyMs).toBeLessThan(100);
  });

  it('resends with backoff on committed=false until committed, and drops results whose lease was lost', async () => {
    const api = await fake({
      onResult: (r, nth) => {
        if (r.runId === 'retry' && nth <= 2) return { committed: false, reason: 'unavailable' };
        if (r.runId === 'lost') return { committed: false, reason: 'lease_lost' };
        return { committed: true };
      },
    });
    const w = worker(config(api.url));
    await waitFor(() => w.stats().connected, 'registration');
    api.addJob({ runId: 'retry', url: url('retry') });
    api.addJob({ runId: 'lost', url: url('lost') });
    await waitFor(() => api.committed.has('retry'), 'retry committed');
    await waitFor(() => w.stats().unacked === 0, 'no unacked left');
    expect(api.results.filter((r) => r.runId === 'retry')).toHaveLength(3);
    // a resend carries exactly the same idempotency key
    expect(new Set(api.results.filter((r) => r.runId === 'retry').map((r) => r.eventAtMs)).size).toBe(1);
    expect(api.results.filter((r) => r.runId === 'lost')).toHaveLength(1);
    expect(api.committed.has('lost')).toBe(false);
    expect(w.stats()).toMatchObject({ resultsAcked: 1, resultsDropped: 1, resultsResent: 2 });
  });

  it('reconnects after a stream drop, keeps its worker id and resends unacked results', async () => {
    const api = await fake({ onResult: (_r, nth) => (nth === 1 ? 'drop-stream' : { committed: true }) });
    const w = worker(config(api.url));
    await waitFor(() => w.stats().connected, 'registration');
    const firstId = w.stats().workerId;
    api.addJob({ runId: 'dropped', url: url('dropped') });
    await waitFor(() => api.committed.has('dropped'), 'result committed after reconnect');
    expect(api.registrations.length).toBeGreaterThanOrEqual(2);
    expect(api.registrations[1]?.workerId).toBe(firstId);
    expect(api.commitCount.get('dropped')).toBe(1);
    await waitFor(() => w.stats().unacked === 0, 'ack processed');
    expect(w.stats().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('keeps unacked results across a control-plane restart and delivers them once', async () => {
    const api = await fake();
    const w = worker(config(api.url));
    await waitFor(() => w.stats().connected, 'registration');
    api.addJob({ runId: 'across-restart', url: url('across-restart', 300) });
    await waitFor(() => w.stats().running === 1, 'check running');
    await api.kill(); // the control plane dies while the check runs
    await waitFor(() => w.stats().checksCompleted === 1, 'check finished while the server is down');
    expect(w.stats()).toMatchObject({ connected: false, unacked: 1 });
    const restarted = await fake({ port: api.port });
    await waitFor(() => restarted.committed.has('across-restart'), 'delivered after restart', 10_000);
    await waitFor(() => w.stats().unacked === 0, 'acked');
    expect(restarted.results.filter((r) => r.runId === 'across-restart')).toHaveLength(1);
    expect(api.committed.has('across-restart')).toBe(false);
    expect(restarted.committed.get('across-restart')?.status).toBe('up');
  });

  it('renews the leases of held jobs and stops a check whose lease is lost', async () => {
    const api = await fake({ leaseRenewMs: 50 });
    const w = worker(config(api.url));
    await waitFor(() => w.stats().connected, 'registration');
    api.addJob({ runId: 'long', url: url('long', 3000), timeoutMs: 10_000n });
    await waitFor(() => api.renewals.some((ids) => ids.includes('long')), 'lease renewal for the running job');
    api.leaseLost(['long']);
    await waitFor(() => w.stats().leasesLost === 1 && w.stats().running === 0, 'check stopped');
    expect(w.stats().resultsDropped).toBe(1);
    expect(api.results.some((r) => r.runId === 'long')).toBe(false);
  });

  it('turns an invalid job into a down result instead of failing', async () => {
    const api = await fake();
    const w = worker(config(api.url));
    await waitFor(() => w.stats().connected, 'registration');
    api.addJob({ runId: 'bad', url: 'ftp://nope', assertionsJson: '[' });
    api.addJob({ runId: 'bad2', url: url('bad2'), assertionsJson: JSON.stringify(['status = 200']) });
    await waitFor(() => api.committed.has('bad') && api.committed.has('bad2'), 'results');
    expect(api.committed.get('bad')).toMatchObject({ status: 'down' });
    expect(api.committed.get('bad')?.error).toMatch(/invalid job JSON/);
    expect(api.committed.get('bad2')?.error).toMatch(/invalid assertions: assertions\[0\] "status = 200"/);
  });

  it('starts at once and keeps retrying while the worker API is down, and stops promptly', async () => {
    const port = await closedPort();
    const w = startMonitoringWorker(config(`http://127.0.0.1:${port}`), { logger, reconnectBackoff: { baseMs: 10, capMs: 40, jitter: 0 } });
    expect(w.stats().connected).toBe(false);
    await waitFor(() => w.stats().reconnects >= 3, 'reconnect attempts');
    const t = Date.now();
    await w.stop();
    expect(Date.now() - t).toBeLessThan(1000);
  });

  it('backs off and retries when the registration is refused', async () => {
    const api = await fake({ token: 'other' });
    const w = worker(config(api.url));
    await waitFor(() => api.badAuth.length >= 2, 'retried registration');
    expect(api.badAuth[0]).toBe('Bearer tok');
    expect(w.stats().connected).toBe(false);
  });

  it('its first clock estimate is measured on the warm stream, not the register exchange that waited for the connection', async () => {
    // The register answer comes 40 ms late (as when the first message waits for TCP/TLS/HTTP/2 setup): that
    // sample alone is ~20 ms off. The clock probe sent right after registering is answered on the warm stream.
    const api = await fake({ registerDelayMs: 40 });
    const w = worker(config(api.url), { now: () => Date.now() + 3000 });
    await waitFor(() => w.stats().connected, 'registration');
    await waitFor(() => api.renewals.length >= 1, 'the clock probe (an empty lease renewal)');
    expect(api.renewals[0]).toEqual([]);
    await waitFor(() => w.stats().clockUncertaintyMs < 10, 'a sample from the warm stream');
    expect(Math.abs(w.stats().clockOffsetMs - 3000)).toBeLessThan(10);
  });

  it('a graceful stop logs no "closed by the server" warning (the server ends the half-closed stream as asked)', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const captured = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l) as { level: number; msg: string }) });
    const api = await fake();
    const w = startMonitoringWorker(config(api.url), { logger: captured });
    await waitFor(() => w.stats().connected, 'registration');
    api.addJob({ runId: 'quiet-stop', url: url('quiet-stop', 50) });
    await waitFor(() => w.stats().running === 1, 'running');
    await w.stop({ graceMs: 2000 });
    expect(api.commitCount.get('quiet-stop')).toBe(1);
    expect(lines.some((l) => l.msg === 'worker stream ended after the graceful half-close')).toBe(true);
    expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([]);
  });

  it('finishes running checks and waits for their acks when stopped', async () => {
    const api = await fake();
    const w = startMonitoringWorker(config(api.url), { logger });
    await waitFor(() => w.stats().connected, 'registration');
    api.addJob({ runId: 'graceful', url: url('graceful', 100) });
    await waitFor(() => w.stats().running === 1, 'running');
    await w.stop({ graceMs: 2000 });
    expect(api.commitCount.get('graceful')).toBe(1);
    expect(w.stats().unacked).toBe(0);
  });

  it('on stop runs the jobs it already holds, delivers them on a job-less stream, and asks for no more', async () => {
    const api = await fake();
    const w = startMonitoringWorker(config(api.url), { logger, prefetch: 4 });
    await waitFor(() => w.stats().connected, 'registration');
    await waitFor(() => api.creditsGranted > 0, 'credits');
    api.addJob({ runId: 'held', url: url('held'), scheduledAtMs: BigInt(Date.now() + 300) });
    await waitFor(() => w.stats().waiting === 1, 'job held');
    const requestsBefore = api.jobRequests.length;
    await w.stop({ graceMs: 5000 });
    expect(api.commitCount.get('held')).toBe(1);
    expect(arrivals.get('held')).toBeDefined();
    expect(api.registrations).toHaveLength(2); // the result went out on a fresh stream
    expect(api.registrations[1]?.workerId).toBe(w.stats().workerId);
    expect(api.jobRequests.length).toBe(requestsBefore);
    expect(w.stats()).toMatchObject({ unacked: 0, waiting: 0, running: 0 });
  });

  it('abandons jobs it cannot finish within the grace period without sending a result', async () => {
    const api = await fake();
    const w = startMonitoringWorker(config(api.url), { logger });
    await waitFor(() => w.stats().connected, 'registration');
    api.addJob({ runId: 'far', url: url('far'), scheduledAtMs: BigInt(Date.now() + 5000) });
    api.addJob({ runId: 'slow', url: url('slow', 3000) });
    await waitFor(() => w.stats().waiting === 1 && w.stats().running === 1, 'one waiting, one running');
    const t = Date.now();
    await w.stop({ graceMs: 200 });
    expect(Date.now() - t).toBeLessThan(1500);
    expect(arrivals.has('far')).toBe(false);
    expect(api.results).toHaveLength(0);
  });
});
