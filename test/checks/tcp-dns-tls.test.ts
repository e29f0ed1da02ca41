import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/monitoring/checks/run-check.js';
import { validateAssertions } from '../../src/monitoring/assertions/index.js';
import type { Assertion } from '../../src/monitoring/assertions/index.js';
import { checkSpecSchema } from '../../src/monitoring/checks/registry.js';
import type { CheckSpecInput } from '../../src/monitoring/checks/spec.js';
import { CheckResultSchema } from '../../src/monitoring/domain/result.js';
import { selfSignedCert } from './helpers/certs.js';
import { startDnsStub } from './helpers/dns-stub.js';
import type { DnsStub } from './helpers/dns-stub.js';
import { closedPort, startHttp, startHttps, startSilentTcp } from './helpers/servers.js';
import type { Running } from './helpers/servers.js';

function asserts(...texts: string[]): Assertion[] {
  const r = validateAssertions(texts);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.assertions;
}

async function check(input: CheckSpecInput, assertions: Assertion[] = []) {
  const result = await runCheck(checkSpecSchema().parse(input), assertions);
  expect(CheckResultSchema.safeParse(result).success).toBe(true);
  return result;
}

let http: Running;
let silent: Running;
let tlsGood: Running;
let tlsShort: Running;
let dns: DnsStub;

beforeAll(async () => {
  http = await startHttp((_req, res) => res.end('ok'));
  silent = await startSilentTcp();
  tlsGood = await startHttps(selfSignedCert({ days: 90, san: ['DNS:localhost', 'DNS:*.example.test', 'IP:127.0.0.1'] }), (_q, s) => s.end('ok'));
  tlsShort = await startHttps(selfSignedCert({ days: 5, cn: 'short.test', san: ['DNS:short.test'] }), (_q, s) => s.end('ok'));
  dns = await startDnsStub({
    'www.example.test': { A: ['192.0.2.10', '192.0.2.11'], AAAA: ['2001:db8::1'], TXT: [['v=spf1 ', '-all'], ['hello']] },
    'alias.example.test': { CNAME: 'www.example.test' },
    'example.test': { MX: [{ priority: 20, exchange: 'mx2.example.test' }, { priority: 10, exchange: 'mx1.example.test' }] },
    'empty.example.test': {},
  });
});

afterAll(async () => {
  await Promise.all([http.close(), silent.close(), tlsGood.close(), tlsShort.close(), dns.close()]);
});

describe('tcp check', () => {
  it('is up when the port accepts, with connect timing', async () => {
    const r = await check({ type: 'tcp', url: `tcp://127.0.0.1:${http.port}` });
    expect(r.status).toBe('up');
    expect(r.connect_ms).not.toBeNull();
    expect(r.dns_ms).toBeNull();
    expect(r.http_code).toBeNull();
  });

  it('measures the lookup for a host name', async () => {
    const r = await check({ type: 'tcp', url: `tcp://localhost:${http.port}` }, asserts('response_time < 5000'));
    expect(r.status).toBe('up');
    expect(r.dns_ms).not.toBeNull();
    expect(r.assertions[0]?.passed).toBe(true);
  });

  it('is down with class connect for a closed port', async () => {
    const r = await check({ type: 'tcp', url: `tcp://127.0.0.1:${await closedPort()}` });
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('connect');
  });

  it('is down with class timeout when the connect does not complete in time', async () => {
    // 192.0.2.0/24 (TEST-NET-1) is not routed: the SYN goes nowhere, or the
    // network answers unreachable at once; both are legitimate outcomes here.
    const r = await check({ type: 'tcp', url: 'tcp://192.0.2.1:9', timeout_ms: 150 });
    expect(r.status).toBe('down');
    expect(['timeout', 'connect']).toContain(r.error_class);
  });
});

describe('dns check against a local UDP DNS server', () => {
  const resolver = () => `127.0.0.1:${dns.port}`;

  it('resolves A records', async () => {
    const r = await check({ type: 'dns', url: 'dns://www.example.test', options: { resolver: resolver() } }, asserts('body contains "192.0.2.10"', 'json $[1] == "192.0.2.11"'));
    expect(r.status).toBe('up');
    expect(r.dns).toEqual({ record_type: 'A', records: ['192.0.2.10', '192.0.2.11'], resolver: resolver() });
    expect(r.dns_ms).not.toBeNull();
    expect(r.assertions.every((a) => a.passed)).toBe(true);
  });

  it('resolves AAAA, CNAME, MX (by priority) and TXT (chunks joined)', async () => {
    const aaaa = await check({ type: 'dns', url: 'dns://www.example.test', options: { resolver: resolver(), record_type: 'AAAA' } });
    expect(aaaa.dns?.records).toEqual(['2001:db8::1']);
    const cname = await check({ type: 'dns', url: 'dns://alias.example.test', options: { resolver: resolver(), record_type: 'CNAME' } });
    expect(cname.dns?.records).toEqual(['www.example.test']);
    const mx = await check({ type: 'dns', url: 'dns://example.test', options: { resolver: resolver(), record_type: 'MX' } });
    expect(mx.dns?.records).toEqual(['10 mx1.example.test', '20 mx2.example.test']);
    const txt = await check({ type: 'dns', url: 'dns://www.example.test', options: { resolver: resolver(), record_type: 'TXT' } });
    expect(txt.dns?.records).toEqual(['v=spf1 -all', 'hello']);
    for (const r of [aaaa, cname, mx, txt]) expect(r.status).toBe('up');
  });

  it('is down with class dns for NXDOMAIN and for a name without records of the type', async () => {
    const nx = await check({ type: 'dns', url: 'dns://missing.example.test', options: { resolver: resolver() } });
    expect(nx.status).toBe('down');
    expect(nx.error_class).toBe('dns');
    expect(nx.error).toMatch(/ENOTFOUND/);
    const nodata = await check({ type: 'dns', url: 'dns://empty.example.test', options: { resolver: resolver(), record_type: 'MX' } });
    expect(nodata.status).toBe('down');
    expect(nodata.error_class).toBe('dns');
  });

  it('is down with class timeout when the resolver does not answer', async () => {
    dns.setSilent(true);
    try {
      const before = dns.queries();
      const r = await check({ type: 'dns', url: 'dns://www.example.test', timeout_ms: 200, options: { resolver: resolver() } });
      expect(r.status).toBe('down');
      expect(r.error_class).toBe('timeout');
      expect(dns.queries()).toBeGreaterThan(before);
      expect(r.total_ms).toBeLessThan(2000);
    } finally {
      dns.setSilent(false);
    }
  });

  it('fails the check when a record assertion fails', async () => {
    const r = await check({ type: 'dns', url: 'dns://www.example.test', options: { resolver: resolver() } }, asserts('body contains "203.0.113.1"'));
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('assertion');
  });
});

describe('tls check', () => {
  it('reports days to expiry, issuer, SANs and SAN match (verification off)', async () => {
    const r = await check(
      { type: 'tls', url: `tls://localhost:${tlsGood.port}`, options: { tls_verify: false, expected_san: 'api.example.test' } },
      asserts('cert_expires_in > 30'),
    );
    expect(r.status).toBe('up');
    expect(r.tls?.days_remaining).toBeGreaterThan(89);
    expect(r.tls?.days_remaining).toBeLessThanOrEqual(90);
    expect(r.tls?.issuer).toContain('CN=localhost');
    expect(r.tls?.issuer).toContain('O=Vantage Test');
    expect(r.tls?.san).toEqual(['localhost', '*.example.test', '127.0.0.1']);
    expect(r.tls?.san_match).toBe(true); // wildcard covers api.example.test
    expect(r.tls?.authorized).toBe(false);
    expect(r.tls_ms).toBeGreaterThan(0);
    expect(r.assertions[0]).toEqual({ assertion: 'cert_expires_in > 30', passed: true, actual: expect.any(Number) });
  });

  it('is down with class tls for an untrusted chain when verification is on', async () => {
    const r = await check({ type: 'tls', url: `tls://127.0.0.1:${tlsGood.port}` });
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('tls');
    expect(r.tls?.authorization_error).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('is down with class tls when the expected SAN is not covered', async () => {
    const r = await check({ type: 'tls', url: `https://127.0.0.1:${tlsShort.port}/`, options: { tls_verify: false, expected_san: 'other.test' } });
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('tls');
    expect(r.tls?.san_match).toBe(false);
    expect(r.error).toContain('short.test');
  });

  it('fails cert_expires_in for a certificate that expires soon', async () => {
    const r = await check({ type: 'tls', url: `tls://127.0.0.1:${tlsShort.port}`, options: { tls_verify: false } }, asserts('cert_expires_in > 14'));
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('assertion');
    expect(r.assertions[0]?.actual).toBeLessThanOrEqual(5);
    expect(r.assertions[0]?.actual).toBeGreaterThan(4);
  });

  it('is down with class connect for a closed port and timeout for a silent server', async () => {
    const closed = await check({ type: 'tls', url: `tls://127.0.0.1:${await closedPort()}` });
    expect(closed.error_class).toBe('connect');
    const hung = await check({ type: 'tls', url: `tls://127.0.0.1:${silent.port}`, timeout_ms: 150 });
    expect(hung.status).toBe('down');
    expect(hung.error_class).toBe('timeout');
    expect(hung.connect_ms).not.toBeNull(); // TCP connected, the handshake never finished
  });

  it('is down with class tls against a plain TCP service', async () => {
    const r = await check({ type: 'tls', url: `tls://127.0.0.1:${http.port}` });
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('tls');
  });
});
