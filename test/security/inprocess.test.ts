import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/load.js';
import type { ServerConfig } from '../../src/config/server.js';
import { crashHandler } from '../../src/http/stages/crash.js';
import { compose, type ManagementRoute, type RequestContext } from '../../src/http/pipeline.js';
import { compileSecurityPolicy } from '../../src/http/policy.js';
import { OPEN } from '../../src/auth/principal.js';
import { timeoutStage } from '../../src/http/stages/timeout.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { tempDir } from './helpers.js';
import { call, rawRequest, waitFor } from './server-helpers.js';

const tmp = tempDir('vantage-inproc-');
const running: RunningServer[] = [];
afterAll(async () => {
  for (const s of running) await s.close({ timeoutMs: 1000 });
  tmp.cleanup();
});

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

let n = 0;
function config(extra: Partial<ServerConfig> = {}): ServerConfig {
  n++;
  const base = loadServerConfig({ flags: { port: 0, host: '127.0.0.1', database: join(tmp.dir, `db${n}.sqlite`), monitoring_enabled: false, health_check_enabled: false } }).config;
  return { ...base, ...extra };
}

describe('crash containment (in-process server)', () => {
  it('a throwing stage/handler answers 500 JSON with a request id that is in the log with the stack; the server keeps serving', async () => {
    const { lines, logger } = capture();
    const s = await startServer(config(), {
      logger,
      stages: {
        allowList: (ctx, next) => {
          if (ctx.path === '/clients') throw new TypeError('handler exploded');
          return next();
        },
      },
    });
    running.push(s);
    const r = await call(s.url, '/clients');
    expect(r.status).toBe(500);
    expect(r.json.error).toBe('internal server error');
    expect(r.json.request_id).toMatch(/^[0-9a-f]{16}$/);
    expect(r.text).not.toContain('exploded');
    const logged = await waitFor(() => lines.find((l) => l.request_id === r.json.request_id), 'the log line');
    expect((logged.err as { stack: string }).stack).toContain('handler exploded');
    for (let i = 0; i < 3; i++) expect((await call(s.url, '/health')).status).toBe(200);
    expect((await call(s.url, '/route', { body: { tier: 'small' } })).status).toBe(503);
  });

  it('a throwing proxy handler answers 500 with a request id too', async () => {
    const { lines, logger } = capture();
    const s = await startServer(config(), {
      logger,
      fallback: () => {
        throw new Error('proxy exploded');
      },
    });
    running.push(s);
    const r = await call(s.url, '/app/x');
    expect(r.status).toBe(500);
    expect(r.json.request_id).toMatch(/^[0-9a-f]{16}$/);
    await waitFor(() => lines.find((l) => l.request_id === r.json.request_id), 'the log line');
    expect((await call(s.url, '/health')).status).toBe(200);
  });
});

describe('proxied-traffic front (in-process server with a stand-in proxy)', () => {
  const proxied = (req: IncomingMessage, res: ServerResponse) => {
    if (!(req.url ?? '').startsWith('/app')) return false;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ proxied: req.url }));
    return true;
  };

  it('needs no API key, adds security headers, and refuses path traversal in every encoding', async () => {
    const { logger } = capture();
    const s = await startServer(config({ server_key: 'agent-key-0123456789abcdef0123456789', rate_limit_burst: 1000 }), { logger, fallback: proxied });
    running.push(s);
    const ok = await call(s.url, '/app/users?id=1');
    expect(ok.status).toBe(200);
    expect(ok.json.proxied).toBe('/app/users?id=1');
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    expect((await call(s.url, '/clients')).status).toBe(401);
    // Raw sockets: node's URL parser would normalise these before sending.
    for (const path of ['/app/../clients', '/app/%2e%2e/clients', '/app/%2E%2e/clients', '/app/%252e%252e/x', '/app/..%2fx', '/app/..%5cx', '/app\\..\\x', '/app/./x', '/app/%00']) {
      const r = await rawRequest(s.port, path);
      expect(r.status, path).toBe(400);
      expect(JSON.parse(r.text).field, path).toBe('path');
    }
    expect((await rawRequest(s.port, '/app/a..b/c.d')).status).toBe(200);
    expect((await call(s.url, '/other')).status).toBe(404);
    const host = await call(s.url, '/app/x', { headers: { host: 'evil.example/x' } });
    expect(host.status).toBe(400);
    // Tier names from the tier header and the query are checked (charset and length).
    for (const bad of [{ headers: { 'x-tier': '<script>' } }, { headers: { 'x-tier': 'a'.repeat(65) } }]) {
      const r = await call(s.url, '/app/x', bad);
      expect(r.status).toBe(400);
      expect(r.json.error).toContain('tier_header');
    }
    expect((await rawRequest(s.port, '/app/x?tier=%3Cscript%3E')).status).toBe(400);
    expect((await call(s.url, '/app/x?tier=small', { headers: { 'x-tier': 'gpu-inference' } })).status).toBe(200);
  });

  it('rate limits per client IP (separately from the management API) and spoofed X-Forwarded-For does not help', async () => {
    const { logger } = capture();
    const s = await startServer(config({ rate_limit_burst: 2, rate_limit_per_minute: 1 }), { logger, fallback: proxied });
    running.push(s);
    expect((await call(s.url, '/app/1')).status).toBe(200);
    expect((await call(s.url, '/app/2', { headers: { 'x-forwarded-for': '1.2.3.4' } })).status).toBe(200);
    const limited = await call(s.url, '/app/3', { headers: { 'x-forwarded-for': '5.6.7.8' } });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.headers['ratelimit-limit']).toBe('2');
    // The management API has its own buckets.
    expect((await call(s.url, '/clients')).status).toBe(200);
  });

  it('CORS: preflight answered for listed origins, 403 naming cors_allowed_origins otherwise; actual responses carry the headers', async () => {
    const { logger } = capture();
    const s = await startServer(config({ enable_cors: true, cors_allowed_origins: ['https://app.example.com'] }), { logger, fallback: proxied });
    running.push(s);
    const pre = await call(s.url, '/app/x', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(pre.headers['access-control-allow-credentials']).toBe('true');
    expect(pre.headers['access-control-allow-methods']).toContain('POST');
    const bad = await call(s.url, '/app/x', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    expect(bad.status).toBe(403);
    expect(bad.json.error).toContain('cors_allowed_origins');
    const actual = await call(s.url, '/app/x', { headers: { origin: 'https://app.example.com' } });
    expect(actual.status).toBe(200);
    expect(actual.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(actual.headers.vary).toContain('Origin');
    const other = await call(s.url, '/app/x', { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('request timeout stage (real HTTP server, fake timers)', () => {
  it('answers 503 naming request_timeout_seconds when a handler does not answer in time; late writes do not crash', async () => {
    const pending: Array<() => void> = [];
    const timers = {
      setTimeout: (fn: () => void) => {
        pending.push(fn);
        return pending.length;
      },
      clearTimeout: () => {},
    };
    let clock = 1_000;
    const policy = compileSecurityPolicy({ ...config(), request_timeout_seconds: 7 }, { https: false });
    const { logger } = capture();
    let late: RequestContext | null = null;
    const run = compose(
      [timeoutStage({ policy: () => policy }, timers, () => clock)],
      (ctx) => {
        late = ctx; // never answers
      },
      crashHandler(logger),
    );
    const route: ManagementRoute = { name: '/slow', methods: {}, auth: true, body: 'none' };
    const server: Server = createServer((req, res) => {
      run({ req, res, method: 'GET', path: '/slow', search: '', startMs: 0, route, handler: undefined, ip: '', body: null, json: undefined, principal: OPEN });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const p = call(`http://127.0.0.1:${(server.address() as { port: number }).port}`, '/slow');
      await waitFor(() => pending.length > 0 && late !== null, 'the request to reach the handler');
      // A sweep before the deadline leaves the request alone and schedules the next sweep.
      clock += 6_999;
      pending[0]!();
      expect(pending).toHaveLength(2);
      clock += 1;
      pending[1]!();
      const r = await p;
      expect(r.status).toBe(503);
      expect(r.json.error).toContain('request_timeout_seconds');
      expect(r.json.error).toContain('7 s');
      expect(() => (late as unknown as RequestContext).res.end('too late')).not.toThrow();
    } finally {
      server.close();
    }
  });
});
