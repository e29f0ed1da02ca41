import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/monitoring/checks/run-check.js';
import { validateAssertions } from '../../src/monitoring/assertions/index.js';
import type { Assertion } from '../../src/monitoring/assertions/index.js';
import { checkSpecSchema } from '../../src/monitoring/checks/registry.js';
import type { CheckSpecInput } from '../../src/monitoring/checks/spec.js';
import { CheckResultSchema } from '../../src/monitoring/domain/result.js';
import { selfSignedCert } from './helpers/certs.js';
import type { TestCert } from './helpers/certs.js';
import { closedPort, startHttp, startHttps, startSilentTcp } from './helpers/servers.js';
import type { Handler, Running } from './helpers/servers.js';

function asserts(...texts: string[]): Assertion[] {
  const r = validateAssertions(texts);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.assertions;
}

async function check(input: CheckSpecInput, assertions: Assertion[] = []) {
  const result = await runCheck(checkSpecSchema().parse(input), assertions);
  // every result the agent produces must satisfy the wire schema
  expect(CheckResultSchema.safeParse(result).success).toBe(true);
  return result;
}

const routes: Handler = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  switch (url.pathname) {
    case '/health': {
      const body = JSON.stringify({ status: 'ok', a: { b: [3, 4] }, n: 5 });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-served-by': 'test-1' });
      res.end(body);
      return;
    }
    case '/status': {
      res.writeHead(Number(url.searchParams.get('code') ?? '200'));
      res.end('status');
      return;
    }
    case '/delay-headers':
      setTimeout(() => {
        res.writeHead(200);
        res.end('late');
      }, 60);
      return;
    case '/drip':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      setTimeout(() => res.end('second'), 60);
      return;
    case '/slow':
      setTimeout(() => {
        if (!res.destroyed) res.end('too late');
      }, 3000);
      return;
    case '/redirect':
      res.writeHead(302, { location: '/health' });
      res.end();
      return;
    case '/see-other':
      res.writeHead(303, { location: '/echo' });
      res.end();
      return;
    case '/loop':
      res.writeHead(302, { location: '/loop' });
      res.end();
      return;
    case '/echo': {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString(), x: req.headers['x-test'] ?? null }));
      });
      return;
    }
    case '/big': {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      for (let i = 0; i < 32; i++) res.write(chunk); // 2 MiB
      res.end('END');
      return;
    }
    case '/not-json':
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>ok</html>');
      return;
    default:
      res.writeHead(404);
      res.end('nope');
  }
};

let plain: Running;
let secure: Running;
let silent: Running;
let cert: TestCert;
let base: string;

beforeAll(async () => {
  cert = selfSignedCert({ days: 30 });
  plain = await startHttp(routes);
  secure = await startHttps(cert, routes);
  silent = await startSilentTcp();
  base = `http://127.0.0.1:${plain.port}`;
});

afterAll(async () => {
  await Promise.all([plain.close(), secure.close(), silent.close()]);
});

describe('http check against a real local server', () => {
  it('is up for 200 with all phase timings from socket events', async () => {
    const r = await check({ url: `http://localhost:${plain.port}/health` });
    expect(r.status).toBe('up');
    expect(r.http_code).toBe(200);
    expect(r.error).toBeNull();
    expect(r.error_class).toBeNull();
    // 'localhost' needs a lookup, so dns_ms is measured
    expect(r.dns_ms).not.toBeNull();
    expect(r.connect_ms).not.toBeNull();
    expect(r.tls_ms).toBeNull();
    expect(r.ttfb_ms).not.toBeNull();
    expect(r.download_ms).not.toBeNull();
    const parts = (r.dns_ms ?? 0) + (r.connect_ms ?? 0) + (r.ttfb_ms ?? 0) + (r.download_ms ?? 0);
    expect(r.total_ms).toBeGreaterThanOrEqual(parts - 0.01);
    expect(r.size_bytes).toBe(Buffer.byteLength(JSON.stringify({ status: 'ok', a: { b: [3, 4] }, n: 5 })));
    expect(r.finished_at).toBeGreaterThanOrEqual(r.started_at);
  });

  it('skips the DNS phase for an IP literal', async () => {
    const r = await check({ url: `${base}/health` });
    expect(r.status).toBe('up');
    expect(r.dns_ms).toBeNull();
    expect(r.connect_ms).not.toBeNull();
  });

  it('measures time to first byte when the server is slow to answer', async () => {
    const r = await check({ url: `${base}/delay-headers` });
    expect(r.status).toBe('up');
    expect(r.ttfb_ms).toBeGreaterThanOrEqual(50);
    expect(r.download_ms).toBeLessThan(50);
  });

  it('measures download time when the body arrives late', async () => {
    const r = await check({ url: `${base}/drip` });
    expect(r.status).toBe('up');
    expect(r.ttfb_ms).toBeLessThan(50);
    expect(r.download_ms).toBeGreaterThanOrEqual(50);
    expect(r.size_bytes).toBe('first second'.length);
  });

  it('is down with class http for a 5xx and no status assertion', async () => {
    const r = await check({ url: `${base}/status?code=503` });
    expect(r.status).toBe('down');
    expect(r.http_code).toBe(503);
    expect(r.error_class).toBe('http');
    expect(r.error).toContain('503');
  });

  it('is up for a 3xx without following redirects, and follows them when asked', async () => {
    const noFollow = await check({ url: `${base}/redirect` });
    expect(noFollow.status).toBe('up');
    expect(noFollow.http_code).toBe(302);
    const follow = await check({ url: `${base}/redirect`, options: { follow_redirects: true } }, asserts('json $.status == "ok"'));
    expect(follow.status).toBe('up');
    expect(follow.http_code).toBe(200);
  });

  it('turns a POST into a GET on 303 and gives up on redirect loops', async () => {
    const r = await check(
      { url: `${base}/see-other`, method: 'POST', body: 'hello', options: { follow_redirects: true } },
      asserts('json $.method == "GET"', 'json $.body == ""'),
    );
    expect(r.status).toBe('up');
    const loop = await check({ url: `${base}/loop`, options: { follow_redirects: true } });
    expect(loop.status).toBe('down');
    expect(loop.error_class).toBe('http');
    expect(loop.error).toMatch(/redirects/);
  });

  it('sends method, headers and body', async () => {
    const r = await check(
      { url: `${base}/echo`, method: 'put', headers: { 'x-test': 'yes' }, body: '{"k":1}' },
      asserts('json $.method == "PUT"', 'json $.body == "{\\"k\\":1}"', 'json $.x == "yes"'),
    );
    expect(r.assertions.map((a) => [a.assertion, a.passed])).toEqual([
      ['json $.method == "PUT"', true],
      ['json $.body == "{\\"k\\":1}"', true],
      ['json $.x == "yes"', true],
    ]);
    expect(r.status).toBe('up');
  });

  it('counts every byte of a large body but keeps only 1 MiB for assertions', async () => {
    const r = await check({ url: `${base}/big` }, asserts('body contains "aaaa"', 'body contains "END"'));
    expect(r.size_bytes).toBe(2 * 1024 * 1024 + 3);
    expect(r.assertions[0]?.passed).toBe(true);
    expect(r.assertions[1]?.passed).toBe(false); // beyond the kept prefix
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('assertion');
  });

  it('times out against a slow server, with class timeout, close to timeout_ms', async () => {
    const r = await check({ url: `${base}/slow`, timeout_ms: 200 });
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('timeout');
    expect(r.total_ms).toBeGreaterThanOrEqual(195);
    expect(r.total_ms).toBeLessThan(2000);
    expect(r.http_code).toBeNull();
  });

  it('times out against a server that accepts and never answers', async () => {
    const r = await check({ url: `http://127.0.0.1:${silent.port}/`, timeout_ms: 150 });
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('timeout');
    expect(r.connect_ms).toBeNull(); // not reported for failed checks
  });

  it('is down with class connect for a closed port', async () => {
    const port = await closedPort();
    const r = await check({ url: `http://127.0.0.1:${port}/` });
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('connect');
    expect(r.error).toMatch(/ECONNREFUSED/);
  });

  it('is down with class dns for a name that does not resolve', async () => {
    const r = await check({ url: 'http://does-not-exist.invalid/', timeout_ms: 8000 });
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('dns');
  });

  it('marks the check down with class assertion when an assertion fails, reporting the actual value', async () => {
    const r = await check({ url: `${base}/health` }, asserts('status == 200', 'json $.n > 10', 'header content-type contains "json"'));
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('assertion');
    expect(r.assertions).toEqual([
      { assertion: 'status == 200', passed: true, actual: 200 },
      { assertion: 'json $.n > 10', passed: false, actual: 5 },
      { assertion: 'header content-type contains "json"', passed: true, actual: 'application/json; charset=utf-8' },
    ]);
    expect(r.error).toContain('json $.n > 10');
  });

  it('lets a status assertion accept a non-2xx code', async () => {
    const r = await check({ url: `${base}/status?code=404` }, asserts('status == 404', 'body contains "status"'));
    expect(r.status).toBe('up');
    expect(r.error_class).toBeNull();
  });

  it('response_time assertion uses total time', async () => {
    const fast = await check({ url: `${base}/health` }, asserts('response_time < 5000'));
    expect(fast.status).toBe('up');
    const slow = await check({ url: `${base}/delay-headers` }, asserts('response_time < 20'));
    expect(slow.status).toBe('down');
    expect(slow.assertions[0]?.actual).toBeGreaterThanOrEqual(50);
  });

  it('reports a JSON assertion against a non-JSON body as failed with a reason', async () => {
    const r = await check({ url: `${base}/not-json` }, asserts('json $.a exists'));
    expect(r.status).toBe('down');
    expect(r.assertions[0]).toMatchObject({ passed: false, actual: null, error: 'response body is not valid JSON' });
  });
});

describe('https check with a self-signed certificate', () => {
  it('is down with class tls when verification is on', async () => {
    const r = await check({ url: `https://localhost:${secure.port}/health` });
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('tls');
    expect(r.error).toMatch(/self[- ]signed/i);
  });

  it('is up with verification off, with a TLS phase and certificate details for cert assertions', async () => {
    const r = await check(
      { url: `https://localhost:${secure.port}/health`, options: { tls_verify: false } },
      asserts('cert_expires_in > 14', 'status == 200'),
    );
    expect(r.status).toBe('up');
    expect(r.tls_ms).not.toBeNull();
    expect(r.tls_ms).toBeGreaterThan(0);
    expect(r.ttfb_ms).not.toBeNull();
    expect(r.tls?.days_remaining).toBeGreaterThan(29);
    expect(r.tls?.days_remaining).toBeLessThanOrEqual(30);
    expect(r.tls?.san).toEqual(['localhost', '127.0.0.1']);
    expect(r.assertions[0]).toMatchObject({ passed: true });
    const short = await check(
      { url: `https://127.0.0.1:${secure.port}/health`, options: { tls_verify: false } },
      asserts('cert_expires_in > 60'),
    );
    expect(short.status).toBe('down');
    expect(short.error_class).toBe('assertion');
    expect(short.assertions[0]?.actual).toBeLessThanOrEqual(30);
  });

  it('is down with class tls when speaking TLS to a plain HTTP server', async () => {
    const r = await check({ url: `https://127.0.0.1:${plain.port}/health`, options: { tls_verify: false } });
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('tls');
  });
});

describe('check cancellation', () => {
  it('ends a running check as a timeout when aborted', async () => {
    const ac = new AbortController();
    const p = runCheck(checkSpecSchema().parse({ url: `${base}/slow`, timeout_ms: 10_000 }), [], { signal: ac.signal });
    ac.abort();
    const r = await p;
    expect(r.status).toBe('down');
    expect(r.error_class).toBe('timeout');
    expect(r.error).toMatch(/aborted/);
  });
});
