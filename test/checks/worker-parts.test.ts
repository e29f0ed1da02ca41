import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ClockOffset, ntpSample } from '../../src/agent/worker/clock.js';
import { JobCache, prepareJob, toResultMessage } from '../../src/agent/worker/job.js';
import { AsyncQueue } from '../../src/platform/async-queue.js';
import { resolveWorkerUrl } from '../../src/agent/worker/worker.js';
import type { MonitoringWorkerConfig } from '../../src/agent/worker/worker.js';
import { ClientConfigSchema } from '../../src/config/client.js';
import type { ClientConfig } from '../../src/config/client.js';
import { JobSchema } from '../../src/gen/vantage/v1/worker_pb.js';
import type { CheckResult } from '../../src/monitoring/domain/result.js';

describe('clock offset (NTP style)', () => {
  it('recovers a known offset from a symmetric exchange', () => {
    // worker is 1000 ms ahead; 10 ms each way; server holds it for 2 ms
    const t0 = 50_000; // worker
    const t1 = t0 - 1000 + 10; // server
    const t2 = t1 + 2; // server
    const t3 = t2 + 1000 + 10; // worker
    expect(ntpSample(t0, t1, t2, t3)).toEqual({ offsetMs: 1000, rttMs: 20 });
  });

  it('keeps the true offset within the error bound for asymmetric delays', () => {
    const t0 = 0;
    const t1 = -500 + 40; // 40 ms forward
    const t2 = t1;
    const t3 = t2 + 500 + 2; // 2 ms back
    const s = ntpSample(t0, t1, t2, t3);
    expect(Math.abs(s.offsetMs - 500)).toBeLessThanOrEqual(s.rttMs / 2);
  });

  it('prefers the sample with the smallest round trip among recent ones', () => {
    const c = new ClockOffset(3);
    expect(c.known).toBe(false);
    expect(c.notBefore(1000)).toBe(1000);
    c.add({ offsetMs: 30, rttMs: 60 });
    c.add({ offsetMs: 5, rttMs: 2 });
    c.add({ offsetMs: 12, rttMs: 20 });
    expect(c.offsetMs).toBe(5);
    expect(c.uncertaintyMs).toBe(1);
    expect(c.toServer(1005)).toBe(1000);
    // start no earlier than the server time could possibly be reached
    expect(c.notBefore(1000)).toBe(1006);
    // the best sample ages out after `keep` newer ones
    c.add({ offsetMs: 13, rttMs: 20 });
    c.add({ offsetMs: 14, rttMs: 22 });
    c.add({ offsetMs: 15, rttMs: 24 });
    expect(c.offsetMs).toBe(13);
    c.add({ offsetMs: Number.NaN, rttMs: 0 });
    c.add({ offsetMs: 1, rttMs: -1 });
    expect(c.offsetMs).toBe(13);
  });
});

describe('AsyncQueue', () => {
  it('delivers pushed items in order to a waiting consumer and ends', async () => {
    const q = new AsyncQueue<number>();
    const got: number[] = [];
    const consumer = (async () => {
      for await (const n of q) got.push(n);
    })();
    q.push(1);
    q.push(2);
    await Promise.resolve();
    q.push(3);
    q.end();
    await consumer;
    expect(got).toEqual([1, 2, 3]);
    expect(q.push(4)).toBe(false);
  });
});

describe('worker config', () => {
  it('accepts the client config as loaded (ClientConfig is assignable, defaults as documented)', () => {
    const cfg: ClientConfig = ClientConfigSchema.parse({});
    const worker: MonitoringWorkerConfig = cfg;
    expect(worker).toMatchObject({ worker_url: '', region: 'global', max_concurrent_checks: 32, monitoring_enabled: true, cluster_token: '' });
    expect(resolveWorkerUrl(worker)).toBe('http://localhost:8081');
  });
});

describe('resolveWorkerUrl', () => {
  it('uses worker_url, else server_url host on port 8081', () => {
    expect(resolveWorkerUrl({ worker_url: 'https://w.example:9443/', server_url: 'http://x' })).toBe('https://w.example:9443');
    expect(resolveWorkerUrl({ worker_url: '', server_url: 'https://lb.example.com:8080/api' })).toBe('https://lb.example.com:8081');
    expect(resolveWorkerUrl({ worker_url: '', server_url: 'http://[::1]' })).toBe('http://[::1]:8081');
  });
});

describe('job conversion', () => {
  const job = create(JobSchema, {
    runId: 'r1',
    monitorId: 'm1',
    scheduledAtMs: 1000n,
    type: 'dns',
    url: 'dns://example.test',
    timeoutMs: 2500n,
    optionsJson: JSON.stringify({ record_type: 'MX', resolver: '127.0.0.1:5353' }),
    assertionsJson: JSON.stringify(['response_time < 100', { type: 'body', op: 'contains', value: 'mx1' }]),
  });

  it('validates a job into a check spec and assertions', () => {
    const p = prepareJob(job);
    expect(p).toEqual({
      ok: true,
      spec: {
        type: 'dns',
        url: 'dns://example.test',
        method: 'GET',
        headers: {},
        body: '',
        timeout_ms: 2500,
        options: { follow_redirects: false, tls_verify: true, record_type: 'MX', resolver: '127.0.0.1:5353' },
      },
      assertions: [
        { type: 'response_time', op: '<', value: 100 },
        { type: 'body', op: 'contains', value: 'mx1' },
      ],
    });
    const bad = prepareJob(create(JobSchema, { ...job, optionsJson: '{"record_type":"SRV"}' }));
    expect(bad.ok).toBe(false);
  });

  it('caches by content, not by run', () => {
    const c = new JobCache();
    const a = c.prepare(job);
    const b = c.prepare(create(JobSchema, { ...job, runId: 'r2' }));
    expect(b).toBe(a);
    c.prepare(create(JobSchema, { ...job, runId: 'r3', url: 'dns://other.test' }));
    expect(c.size).toBe(2);
  });

  it('converts a result to the server clock and keeps optional timings absent when null', () => {
    const r: CheckResult = {
      status: 'down',
      http_code: null,
      dns_ms: 1.5,
      connect_ms: null,
      tls_ms: null,
      ttfb_ms: null,
      download_ms: null,
      total_ms: 1.5,
      size_bytes: 0,
      error: 'boom',
      error_class: 'dns',
      assertions: [{ assertion: 'response_time < 100', passed: true, actual: 1.5 }],
      started_at: 5000.4,
      finished_at: 5002,
      tls: null,
      dns: { record_type: 'MX', records: [], resolver: null },
    };
    const m = toResultMessage(job, r, 3000);
    expect(Number(m.eventAtMs)).toBe(2000);
    expect(Number(m.finishedAtMs)).toBe(2002);
    expect(m.dnsMs).toBe(1.5);
    expect(m.connectMs).toBeUndefined();
    expect(m.httpCode).toBe(0);
    expect(m.errorClass).toBe('dns');
    expect(JSON.parse(m.detailsJson)).toEqual({ dns: { record_type: 'MX', records: [], resolver: null } });
    expect(JSON.parse(m.assertionsJson)).toEqual(r.assertions);
  });
});
