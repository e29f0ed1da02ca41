/** `vantage monitor` input checks and output against a real MonitorsService on loopback (issue 16, items 5, 6, 11, 17). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { MetricPointSchema, MonitorSchema, type MetricPoint } from '../../src/gen/vantage/v1/monitors_pb.js';
import { formatMonitorShow, formatPercent, runMonitorAdd, runMonitorList } from '../../src/cli/monitor.js';
import { API_KEY, captureIo, rawCall, startWebApi, type WebApi } from './monitor-helpers.js';

let api: WebApi;
beforeAll(async () => {
  api = await startWebApi();
});
afterAll(() => api.close());

const opts = () => ({ server: api.base, apiKey: API_KEY, url: 'http://127.0.0.1:9/health' });

describe('interval and timeout of 0 are refused with the allowed range (item 5)', () => {
  it.each(['0s', '0', '0ms'])('--interval %s', async (interval) => {
    const c = captureIo();
    expect(await runMonitorAdd({ ...opts(), interval }, c.io)).toBe(2);
    expect(c.err[0]).toBe('error: interval_ms: must be between 1000 and 86400000 (1s to 1d), got 0');
  });

  it('--timeout-check 0s', async () => {
    const c = captureIo();
    expect(await runMonitorAdd({ ...opts(), interval: '30s', timeoutCheck: '0s' }, c.io)).toBe(2);
    expect(c.err[0]).toBe('error: timeout_ms: must be between 1 and 120000 (1ms to 2m), got 0');
  });

  it('"intervalMs":"0" and "timeoutMs":"0" through the API; unset still takes the defaults', async () => {
    const zero = await rawCall(api.base, 'CreateMonitor', { monitor: { url: 'http://127.0.0.1:9/', intervalMs: '0' } });
    expect(zero.status).toBe(400);
    expect(zero.json).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining('interval_ms: must be between 1000 and 86400000') });
    const zeroTimeout = await rawCall(api.base, 'CreateMonitor', { monitor: { url: 'http://127.0.0.1:9/', timeoutMs: 0 } });
    expect(zeroTimeout.status).toBe(400);
    expect(zeroTimeout.json.message).toMatch(/^timeout_ms: must be between 1 and 120000/);
    const unset = await rawCall(api.base, 'CreateMonitor', { monitor: { url: 'http://127.0.0.1:9/' } });
    expect(unset.status).toBe(200);
    expect(unset.json.monitor).toMatchObject({ intervalMs: '60000', timeoutMs: '10000' });
  });

  it('an update whose mask names interval_ms refuses 0 too', async () => {
    const created = await rawCall(api.base, 'CreateMonitor', { monitor: { url: 'http://127.0.0.1:9/', intervalMs: '30000' } });
    const id = (created.json.monitor as { id: string }).id;
    const upd = await rawCall(api.base, 'UpdateMonitor', { id, monitor: { intervalMs: '0' }, updateMask: ['interval_ms'] });
    expect(upd.status).toBe(400);
    expect(upd.json.message).toMatch(/interval_ms: must be between/);
  });
});

describe('assertions are checked against the check type, and the type follows the URL scheme (item 6)', () => {
  it('refuses status == 200 on a tcp monitor, naming what tcp supports', async () => {
    const c = captureIo();
    const code = await runMonitorAdd({ ...opts(), type: 'tcp', url: 'tcp://127.0.0.1:11000', assert: ['response_time < 500', 'status == 200'] }, c.io);
    expect(code).toBe(2);
    expect(c.err[0]).toBe('error: assertions[1] "status == 200": a tcp check cannot produce status; tcp supports response_time');
  });

  it.each([
    ['tcp://127.0.0.1:11000', 'tcp'],
    ['dns://example.com', 'dns'],
    ['tls://127.0.0.1:443', 'tls'],
    ['https://127.0.0.1/health', 'http'],
    ['http://127.0.0.1/health', 'http'],
  ])('--url %s without --type creates a %s monitor', async (url, type) => {
    const c = captureIo();
    expect(await runMonitorAdd({ ...opts(), url, json: true }, c.io)).toBe(0);
    expect(JSON.parse(c.out[0]!)).toMatchObject({ type, url });
  });

  it('a scheme-inferred type gets the same assertion check (dns has no status, tls has cert_expires_in)', async () => {
    const dns = captureIo();
    expect(await runMonitorAdd({ ...opts(), url: 'dns://example.com', assert: ['status == 200'] }, dns.io)).toBe(2);
    expect(dns.err[0]).toMatch(/a dns check cannot produce status; dns supports response_time, body, json$/);
    const tls = captureIo();
    expect(await runMonitorAdd({ ...opts(), url: 'tls://127.0.0.1:443', assert: ['cert_expires_in > 7d'] }, tls.io)).toBe(0);
  });

  it('an unknown scheme without --type still says what the http type expects', async () => {
    const c = captureIo();
    expect(await runMonitorAdd({ ...opts(), url: 'ftp://127.0.0.1/' }, c.io)).toBe(2);
    expect(c.err[0]).toMatch(/url: http checks need an http:\/\/ or https:\/\/ URL/);
  });
});

describe('monitor --timeout takes the same durations as route --timeout (item 11)', () => {
  it('accepts 10s, 1500ms and a bare number of seconds; a bad one names the flag', async () => {
    for (const timeout of ['10s', '1500ms', '5']) expect(await runMonitorList({ server: api.base, apiKey: API_KEY, timeout }, captureIo().io)).toBe(0);
    const c = captureIo();
    expect(await runMonitorList({ server: api.base, apiKey: API_KEY, timeout: 'soon' }, c.io)).toBe(2);
    expect(c.err[0]).toBe('error: --timeout: expected a duration such as 10s, 500ms or 2m (a bare number is seconds), got "soon"');
  });
});

describe('monitor show wording (item 17)', () => {
  const point = (over: MessageInitShape<typeof MetricPointSchema>): MetricPoint => create(MetricPointSchema, { count: 1n, upCount: 1n, uptimePct: 100, ...over });
  const monitor = create(MonitorSchema, { id: 'mon_1', name: 'db', type: 'tcp', url: 'tcp://127.0.0.1:5432', intervalMs: 30_000n, timeoutMs: 10_000n, regions: ['global'], enabled: true });

  it('says (1 check) for one check, and prints 100% and 0% alike', () => {
    const text = formatMonitorShow(monitor, { last24h: point({}), last7d: point({ count: 2n, upCount: 0n, uptimePct: 0 }) }, []);
    expect(text).toContain('  uptime: 24h 100%   7d 0%   30d –');
    expect(text).toMatch(/\(1 check\)$/m);
    const many = formatMonitorShow(monitor, { last24h: point({ count: 3n, upCount: 2n, uptimePct: 200 / 3 }) }, []);
    expect(many).toContain('uptime: 24h 66.667%');
    expect(many).toMatch(/\(3 checks\)$/m);
    expect(formatMonitorShow(monitor, {}, [])).toMatch(/\(0 checks\)$/m);
  });

  it('formats every percentage by one rule, never rounding onto 0% or 100%', () => {
    expect([100, 0, 99.5, 99.95, 99.9996, 0.0004, 50].map(formatPercent)).toEqual(['100%', '0%', '99.5%', '99.95%', '99.999%', '0.001%', '50%']);
  });
});
