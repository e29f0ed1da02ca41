import { connect } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { OPEN } from '../../src/auth/principal.js';
import { ServerConfigSchema } from '../../src/config/server.js';
import { healthPipeline, managementPipeline, type ManagementRoute, type ManagementStages, type RequestContext, type Stage } from '../../src/http/pipelines.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { api, tempDir, testServerConfig } from '../server/helpers.js';

const silent = pino({ level: 'silent' });

/** A stage that records its name and goes on. */
const marking = (order: string[]) => (name: string): Stage => (_ctx, next) => {
  order.push(name);
  return next();
};

function fakeContext(route: ManagementRoute, method = 'GET'): RequestContext {
  return {
    req: {} as IncomingMessage,
    res: {} as ServerResponse,
    method,
    path: route.name,
    search: '',
    startMs: 0,
    route,
    handler: route.methods[method],
    ip: '',
    body: null,
    json: undefined,
    principal: OPEN,
  };
}

describe('the pipelines run their stages in the listed order', () => {
  const names: Array<keyof ManagementStages> = ['securityHeaders', 'requestLog', 'cors', 'bodyLimit', 'timeout', 'host', 'validateInput', 'allowList', 'rateLimit', 'authenticate'];

  it('management: security headers → request log → CORS → body limit → timeout → host → input validation → allow-list → rate limit → authenticate → handler', () => {
    const order: string[] = [];
    const mark = marking(order);
    const stages = Object.fromEntries(names.map((n) => [n, mark(n)])) as unknown as ManagementStages;
    const route: ManagementRoute = { name: '/clients', auth: true, body: 'none', methods: { GET: () => void order.push('handler') } };
    managementPipeline(stages, silent)(fakeContext(route));
    expect(order).toEqual([...names, 'handler']);
  });

  it('/health: security headers → CORS → handler only', () => {
    const order: string[] = [];
    const mark = marking(order);
    const route: ManagementRoute = { name: '/health', auth: false, body: 'none', methods: { GET: () => void order.push('handler') } };
    healthPipeline({ securityHeaders: mark('securityHeaders'), cors: mark('cors') }, silent)(fakeContext(route));
    expect(order).toEqual(['securityHeaders', 'cors', 'handler']);
  });
});

interface RawReply {
  status: number;
  headers: Record<string, string>;
  json: Record<string, unknown>;
  text: string;
}

/** One HTTP/1.1 request written by hand (so the Host header can be anything), on its own connection. */
function raw(port: number, target: string, host: string, extra = '', method = 'GET'): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(`${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`));
    let buf = '';
    sock.on('data', (d: Buffer) => (buf += d.toString()));
    sock.on('error', reject);
    sock.on('close', () => {
      const [head = '', body = ''] = buf.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const json = headers['content-type']?.startsWith('application/json') ? (JSON.parse(body) as Record<string, unknown>) : {};
      resolve({ status: Number(statusLine.split(' ')[1]), headers, json, text: body });
    });
  });
}

describe('proxied traffic: CORS → crash containment → security headers → request log → host → input → rate limit → proxy', () => {
  const started: Array<{ s: RunningServer; cleanup: () => void }> = [];
  afterEach(async () => {
    for (const { s, cleanup } of started.splice(0)) {
      await s.close({ timeoutMs: 1000 });
      cleanup();
    }
  });
  const start = async (over: Record<string, unknown>, opts: Partial<Parameters<typeof startServer>[1]> = {}) => {
    const t = tempDir();
    const config = ServerConfigSchema.parse({ port: 0, host: '127.0.0.1', database: `${t.dir}/v.db`, monitoring_enabled: false, health_check_enabled: false, ...over });
    const s = await startServer(config, { logger: silent, ...opts });
    started.push({ s, cleanup: t.cleanup });
    return s;
  };

  it('checks Host before tier names, tier names before the path, the path before the rate limit; refusals carry the security headers', async () => {
    let proxied = 0;
    const s = await start(
      { rate_limit_burst: 1, rate_limit_per_minute: 1 },
      {
        fallback: (_req, res) => {
          proxied++;
          res.end('proxied');
          return true;
        },
      },
    );
    const host = await raw(s.port, '/app/%2e%2e/x?tier=no%20way', 'evil@host');
    expect([host.status, host.json.field]).toEqual([400, 'host']);
    expect(host.headers['x-frame-options']).toBe('DENY');
    const tier = await raw(s.port, '/app/%2e%2e/x?tier=no%20way', 'localhost');
    expect([tier.status, tier.json.field]).toEqual([400, 'tier']);
    const path = await raw(s.port, '/app/%2e%2e/x', 'localhost');
    expect([path.status, path.json.field]).toEqual([400, 'path']);
    // None of the refused requests took a token: the one in the bucket is still there.
    expect((await raw(s.port, '/app/x', 'localhost')).status).toBe(200);
    const limited = await raw(s.port, '/app/x', 'localhost');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.headers['x-content-type-options']).toBe('nosniff');
    // A refused path still comes before the (now empty) bucket.
    expect((await raw(s.port, '/app/%2e%2e/x', 'localhost')).json.field).toBe('path');
    expect(proxied).toBe(1);
  });

  it('answers a CORS preflight before the checks and the rate limit, and adds CORS headers to proxied answers', async () => {
    const s = await start(
      { rate_limit_burst: 1, rate_limit_per_minute: 1, enable_cors: true, cors_allowed_origins: ['https://app.example'] },
      {
        fallback: (_req, res) => {
          res.end('proxied');
          return true;
        },
      },
    );
    const origin = 'Origin: https://app.example\r\n';
    // A preflight is answered before the Host check and the rate limit, with the security headers.
    const p = await raw(s.port, '/app/x', 'evil@host', `${origin}Access-Control-Request-Method: POST\r\n`, 'OPTIONS');
    expect(p.status).toBe(204);
    expect(p.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(p.headers['x-frame-options']).toBe('DENY');
    const ok = await raw(s.port, '/app/x', 'localhost', origin);
    expect(ok.status).toBe(200); // the preflight took no token
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    const limited = await raw(s.port, '/app/x', 'localhost', origin);
    expect(limited.status).toBe(429);
    expect(limited.headers['access-control-allow-origin']).toBe('https://app.example');
  });
});

describe('CORS on the management API (enable_cors applies to both chains)', () => {
  it('answers preflights for /route and /clients before the method check and auth, and adds CORS headers to answers', async () => {
    const t = tempDir();
    const config = testServerConfig(t.dir, {
      server_key: 'k',
      enable_cors: true,
      cors_allowed_origins: ['https://app.example'],
      sticky_header: 'X-Session-ID',
      tier_header: 'X-Workload-Tier',
    });
    const s = await startServer(config, { logger: silent });
    const origin = 'Origin: https://app.example\r\n';
    const preflight = `${origin}Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type, x-api-key\r\n`;
    try {
      for (const path of ['/route', '/clients']) {
        // No X-API-Key, and OPTIONS is not one of the route's methods: still answered 204 for the allowed origin.
        const p = await raw(s.port, path, 'localhost', preflight, 'OPTIONS');
        expect(p.status).toBe(204);
        expect(p.headers['access-control-allow-origin']).toBe('https://app.example');
        expect(p.headers['access-control-allow-methods']).toContain('POST');
        const allowed = p.headers['access-control-allow-headers']!.toLowerCase().split(/\s*,\s*/);
        expect(allowed).toEqual(expect.arrayContaining(['x-api-key', 'content-type', 'x-session-id', 'x-workload-tier']));
        expect(p.headers['x-frame-options']).toBe('DENY');
      }
      // A preflight from an origin that is not listed is refused, naming the setting.
      const evil = await raw(s.port, '/route', 'localhost', 'Origin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n', 'OPTIONS');
      expect(evil.status).toBe(403);
      expect(evil.json.error).toContain('cors_allowed_origins');
      // Actual requests carry the CORS headers, errors included (a browser app can read the 401 and the 503).
      const anon = await raw(s.port, '/clients', 'localhost', origin);
      expect(anon.status).toBe(401);
      expect(anon.headers['access-control-allow-origin']).toBe('https://app.example');
      // No backend registered: the 503 still carries the CORS headers.
      const route = await api(s.url, '/route', { body: { tier: 'small' }, headers: { Origin: 'https://app.example', 'X-API-Key': 'k' } });
      expect(route.status).toBe(503);
      expect(route.headers['access-control-allow-origin']).toBe('https://app.example');
      const clients = await raw(s.port, '/clients', 'localhost', `${origin}X-API-Key: k\r\n`);
      expect(clients.status).toBe(200);
      expect(clients.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(clients.headers['access-control-allow-credentials']).toBe('true');
      const health = await raw(s.port, '/health', 'localhost', origin);
      expect(health.headers['access-control-allow-origin']).toBe('https://app.example');
    } finally {
      await s.close({ timeoutMs: 1000 });
      t.cleanup();
    }
  });
});

describe('WebSocket upgrades: the proxied checks, answered on the raw socket', () => {
  it('refuses management paths, then checks Host and the rate limit like proxied requests', async () => {
    const t = tempDir();
    const config = ServerConfigSchema.parse({ port: 0, host: '127.0.0.1', database: `${t.dir}/v.db`, monitoring_enabled: false, health_check_enabled: false, proxy_endpoints: ['/ws'], rate_limit_burst: 1, rate_limit_per_minute: 1 });
    const s = await startServer(config, { logger: silent });
    const upgrade = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    try {
      const mgmt = await raw(s.port, '/clients', 'localhost', upgrade);
      expect([mgmt.status, mgmt.json]).toEqual([400, { error: 'upgrade not supported on /clients' }]);
      expect(mgmt.headers['content-type']).toBe('application/json; charset=utf-8');
      const badHost = await raw(s.port, '/ws/x', 'evil@host', upgrade);
      // The raw answer carries only the error (an HTTP answer would name the field too).
      expect([badHost.status, badHost.json]).toEqual([400, { error: expect.stringMatching(/invalid Host header/) }]);
      await raw(s.port, '/ws/x', 'localhost', upgrade); // takes the one token (no backend: refused by the proxy)
      const limited = await raw(s.port, '/ws/x', 'localhost', upgrade);
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBeDefined();
      expect(limited.headers['ratelimit-limit']).toBe('1');
      expect(limited.headers.connection).toBe('close');
    } finally {
      await s.close({ timeoutMs: 1000 });
      t.cleanup();
    }
  });
});

describe('a request is authenticated once', () => {
  it('a web API call runs the API-key check once (the management pipeline), and the web handler takes its principal', async () => {
    const t = tempDir();
    const config = ServerConfigSchema.parse({ port: 0, host: '127.0.0.1', database: `${t.dir}/v.db`, monitoring_enabled: true, worker_port: 0, worker_host: '127.0.0.1', server_key: 'k', api_keys: ['a'], health_check_enabled: false });
    let verified = 0;
    const s = await startServer(config, { logger: silent, onKeyVerify: () => verified++ });
    try {
      const path = '/vantage.v1.MonitorsService/ListMonitors';
      const ok = await api(s.url, path, { body: {}, headers: { 'X-API-Key': 'a' } });
      expect(ok.status).toBe(200);
      expect(verified).toBe(1);
      const wrong = await api(s.url, path, { body: {}, headers: { 'X-API-Key': 'nope' } });
      expect([wrong.status, wrong.json]).toEqual([403, { error: 'invalid API key', field: 'X-API-Key' }]);
      expect(verified).toBe(2);
      expect((await api(s.url, path, { body: {} })).status).toBe(401); // missing: nothing to hash
      expect(verified).toBe(2);
    } finally {
      await s.close({ timeoutMs: 1000 });
      t.cleanup();
    }
  });
});
