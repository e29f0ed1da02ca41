/** A worker is leased only jobs of the check types it declared when it registered. */
import { afterEach, describe, expect, it } from 'vitest';
import { SimWorker } from '../monitoring/sim-worker.js';
import { spec, waitFor } from '../monitoring/helpers.js';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';

let cp: ControlPlane | null = null;
const workers: SimWorker[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) await w.kill().catch(() => undefined);
  await cp?.stop();
  cp = null;
});

describe('capabilities matched when leasing', () => {
  it('a worker declaring only tcp gets no http job while another worker gets it', async () => {
    cp = await startControlPlane();
    const tcpOnly = new SimWorker({ baseUrl: cp.workerUrl, token: cp.token, workerId: 'w-tcp' });
    const httpOnly = new SimWorker({ baseUrl: cp.workerUrl, token: cp.token, workerId: 'w-http' });
    workers.push(tcpOnly, httpOnly);
    tcpOnly.register({ capabilities: ['tcp'] });
    httpOnly.register({ capabilities: ['http'] });
    await waitFor(() => tcpOnly.registration?.accepted && httpOnly.registration?.accepted, { what: 'both registered' });
    // the tcp-only worker holds credits first, so it would be offered the http job if types were not matched
    tcpOnly.requestJobs(10);
    await waitFor(() => cp!.mon.streams.get('w-tcp')?.credits === 10, { what: 'tcp worker credits' });

    const meta = { actor: 't', now: Date.now(), jitterSeed: 1 };
    await cp.mon.store.createMonitor(spec({ interval_ms: 10_000, url: 'http://example.test/' }), { ...meta, id: 'mon_http' });
    await cp.mon.store.createMonitor(spec({ interval_ms: 10_000, type: 'tcp', url: 'tcp://example.test:5432' }), { ...meta, id: 'mon_tcp' });

    const tcpJob = await waitFor(() => tcpOnly.jobs.find((j) => j.monitorId === 'mon_tcp'), { what: 'the tcp job' });
    expect(tcpJob.type).toBe('tcp');
    httpOnly.requestJobs(10);
    const httpJob = await waitFor(() => httpOnly.jobs.find((j) => j.monitorId === 'mon_http'), { what: 'the http job' });
    expect(httpJob.type).toBe('http');
    expect(tcpOnly.jobs.map((j) => j.type)).toEqual(['tcp']);
    expect(httpOnly.jobs.map((j) => j.type)).toEqual(['http']);
  });
});
