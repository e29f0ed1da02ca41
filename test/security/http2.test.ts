import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/load.js';
import type { ServerConfig } from '../../src/config/server.js';
import { H2_LIMITS } from '../../src/http/http2.js';
import { upstreamRequestHeaders } from '../../src/lb/proxy/headers.js';
import { compileSecurityPolicy } from '../../src/http/policy.js';
import { timeoutStage } from '../../src/http/stages/timeout.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/app/server.js';
import { makeCert, tempDir } from './helpers.js';
import { waitFor } from './server-helpers.js';

/**
 * HTTP/2 via ALPN on the TLS port: real certificates, real sockets, in-process servers (startServer).
 * Every answer that crosses an HTTP/2 stream is checked for a `connection` header, and the process must never
 * warn about a connection-specific header or a reason phrase (Node drops those with an UnsupportedWarning).
 */
const tmp = tempDir('vantage-h2-');
const SERVER_KEY = 'agent-key-0123456789abcdef0123456789abcd';
const API_KEY = 'integration-key-0123456789abcdef01234567';
const running: RunningServer[] = [];
const sessions: ClientHttp2Session[] = [];
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
let certA: { cert: string; key: string };
let certB: { cert: string; key: string };

beforeAll(() => {
  process.on('warning', onWarning);
  certA = makeCert(join(tmp.dir, 'a'), 'lb.test.local');
  certB = makeCert(join(tmp.dir, 'b'), 'other.test.local');
});
afterAll(async () => {
  process.off('warning', onWarning);
  for (const s of sessions) s.destroy();
  for (const s of running) await s.close({ timeoutMs: 500 });
  tmp.cleanup();
  expect(warnings.filter((w) => w.name === 'UnsupportedWarning').map((w) => w.message)).toEqual([]);
});

let n = 0;
function config(extra: Partial<ServerConfig> = {}): ServerConfig {
  n++;
  const base = loadServerConfig({
    flags: { port: 0, host: '127.0.0.1', database: join(tmp.dir, `db${n}.sqlite`), monitoring_enabled: false, health_check_enabled: false },
  }).config;
  return { ...base, tls_cert_file: certA.cert, tls_key_file: certA.key, ...extra };
}

async function start(extra: Partial<ServerConfig> = {}, opts: Partial<StartServerOptions> = {}): Promise<RunningServer> {
  const s = await startServer(config(extra), { logger: pino({ level: 'silent' }), ...opts });
  running.push(s);
  return s;
}

function session(url: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = h2connect(url, { rejectUnauthorized: false });
    sessions.push(s);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

interface H2Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** One request on an HTTP/2 session; objects are sent as JSON (without Content-Length unless given). */
function h2(s: ClientHttp2Session, path: string, opts: { method?: string; body?: unknown; headers?: OutgoingHttpHeaders } = {}): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ':path': path, ':method': opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), ...opts.headers };
    let body: Buffer | undefined;
    if (opts.body !== undefined) {
      body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
      headers['content-type'] ??= 'application/json';
    }
    const req = s.request(headers, { endStream: body === undefined });
    let got: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (got = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      // Connection-specific headers are forbidden in HTTP/2 (RFC 9113 §8.2.2).
      expect(got.connection, `connection header on ${path}`).toBeUndefined();
      expect(got['keep-alive']).toBeUndefined();
      resolve({ status: Number(got[':status']), headers: got, text, json });
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

/** One HTTP/1.1 request over TLS on a fresh connection; reports the ALPN protocol. */
function h1(url: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<H2Reply & { alpn: string | false | null; version: string }> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = httpsRequest(
      new URL(path, url),
      {
        method: body === undefined ? 'GET' : 'POST',
        rejectUnauthorized: false,
        agent: false,
        // node:https offers no ALPN by default; say HTTP/1.1 as curl or a browser limited to it would.
        ...({ ALPNProtocols: ['http/1.1'] } as object),
        headers: { ...opts.headers, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) },
      },
      (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const alpn = (res.socket as TLSSocket).alpnProtocol;
          resolve({ status: res.statusCode ?? 0, headers: res.headers as unknown as IncomingHttpHeaders, text, json, alpn, version: res.httpVersion });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The protocol the server picks when the client offers `offer` in ALPN. */
function negotiate(port: number, offer: string[]): Promise<string | false | null> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: offer }, () => {
      const p = s.alpnProtocol;
      s.destroy();
      resolve(p);
    });
    s.on('error', reject);
  });
}

// Large enough for every concurrent proxied request of the multiplexing test to hold a reservation.
const CORES = 128;
function registration(id: string, endpoint: string) {
  return { client_id: id, hostname: id, public_ip: '127.0.0.1', local_ip: '127.0.0.1', total_cpu: CORES, total_memory_gb: 1024, total_storage_gb: 20000, endpoint_url: endpoint };
}
function stats(id: string) {
  return {
    client_id: id,
    hostname: id,
    timestamp: new Date().toISOString(),
    cpu_cores: CORES,
    cpu_usage_avg: new Array<number>(CORES).fill(1),
    memory_total_gb: 1024,
    memory_used_gb: 2,
    memory_avail_gb: 1022,
    disk_total_gb: 20000,
    disk_used_gb: 10,
    disk_avail_gb: 19990,
  };
}

const agent = { 'x-api-key': SERVER_KEY };

// ── a backend that records what reaches it ──────────────────────────────────────────────────────────────────
interface Seen {
  method: string;
  url: string;
  rawHeaders: string[];
  headers: IncomingMessage['headers'];
  httpVersion: string;
  body: string;
}
const seen: Seen[] = [];
let backend: Server;
let backendUrl = '';

describe('HTTP/2 via ALPN on the TLS port', () => {
  let s: RunningServer;
  let sess: ClientHttp2Session;

  beforeAll(async () => {
    backend = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, headers: req.headers, httpVersion: req.httpVersion, body: Buffer.concat(chunks).toString() });
        const text = JSON.stringify({ ok: true, path: req.url });
        // Hop-by-hop headers from the backend must not reach an HTTP/2 client.
        res.writeHead(201, 'Created Here', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-backend': 'yes' });
        res.end(text);
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    s = await start({
      server_key: SERVER_KEY,
      api_keys: [API_KEY],
      proxy_endpoints: ['/app'],
      max_request_body_bytes: 4096,
      rate_limit_per_minute: 1_000_000,
      rate_limit_burst: 1_000_000,
    });
    sess = await session(s.url);
    expect((await h2(sess, '/register', { body: registration('h2-backend', backendUrl), headers: agent })).status).toBe(200);
    expect((await h2(sess, '/stats', { body: stats('h2-backend'), headers: agent })).status).toBe(200);
  });
  afterAll(async () => {
    backend.closeAllConnections(); // the proxy's keep-alive connections
    await new Promise<void>((r) => backend.close(() => r()));
  });

  it('negotiates h2 with an HTTP/2 client and http/1.1 with an HTTP/1.1 client on the same port; both get the same answers', async () => {
    expect(sess.alpnProtocol).toBe('h2');
    expect(await negotiate(s.port, ['h2', 'http/1.1'])).toBe('h2');
    expect(await negotiate(s.port, ['http/1.1'])).toBe('http/1.1');

    const health2 = await h2(sess, '/health');
    const health1 = await h1(s.url, '/health');
    expect(health1.alpn).toBe('http/1.1');
    expect(health1.version).toBe('1.1');
    expect(health2.status).toBe(200);
    expect(health1.status).toBe(200);
    expect({ ...health2.json, timestamp: 0 }).toEqual({ ...health1.json, timestamp: 0 });
    expect(health2.json.total_clients).toBe(1);

    const route2 = await h2(sess, '/route', { body: { tier: 'small' }, headers: { 'x-api-key': API_KEY } });
    const route1 = await h1(s.url, '/route', { body: { tier: 'small' }, headers: { 'x-api-key': API_KEY } });
    expect(route2.status).toBe(200);
    expect(route1.status).toBe(200);
    expect(route2.json.client_id).toBe('h2-backend');
    expect(route2.json.endpoint).toBe(route1.json.endpoint);

    const clients = await h2(sess, '/clients', { headers: { 'x-api-key': API_KEY } });
    expect(clients.status).toBe(200);
    expect(clients.json.map((c: { client_id: string }) => c.client_id)).toEqual(['h2-backend']);
    const release = await h2(sess, '/reservations/no-such-id', { method: 'DELETE', headers: { 'x-api-key': API_KEY } });
    expect(release.status).toBe(404);

    // Connections counted by negotiated protocol.
    const metrics = await h2(sess, '/metrics', { headers: { 'x-api-key': API_KEY } });
    expect(metrics.status).toBe(200);
    const count = (p: string) => Number(new RegExp(`vantage_tls_connections_total\\{protocol="${p}"\\} (\\d+)`).exec(metrics.text)?.[1] ?? 0);
    expect(count('h2')).toBeGreaterThanOrEqual(1);
    expect(count('http/1.1')).toBeGreaterThanOrEqual(2);
  });

  it('over h2: X-API-Key 401/403/200, security headers with HSTS, no connection header', async () => {
    const none = await h2(sess, '/clients');
    expect(none.status).toBe(401);
    expect(none.json.error).toMatch(/X-API-Key/);
    const wrong = await h2(sess, '/clients', { headers: { 'x-api-key': 'not-the-key' } });
    expect(wrong.status).toBe(403);
    expect(wrong.json.error).toMatch(/invalid API key/);
    const right = await h2(sess, '/clients', { headers: { 'x-api-key': API_KEY } });
    expect(right.status).toBe(200);
    for (const r of [none, wrong, right, await h2(sess, '/health'), await h2(sess, '/app/x')]) {
      expect(r.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
    }
  });

  it('over h2: 413 for an oversized body, announced or streamed without Content-Length', async () => {
    const big = { pad: 'x'.repeat(10_000) };
    const announced = await h2(sess, '/register', { body: big, headers: { ...agent, 'content-length': String(JSON.stringify(big).length) } });
    expect(announced.status).toBe(413);
    const streamed = await h2(sess, '/register', { body: big, headers: agent });
    expect(streamed.status).toBe(413);
    // Proxied path: the proxy's own limit (413 without a connection header).
    const proxied = await h2(sess, '/app/upload', { body: big, headers: { 'content-length': String(JSON.stringify(big).length) } });
    expect(proxied.status).toBe(413);
    // The session survives the refusals.
    expect((await h2(sess, '/health')).status).toBe(200);
  });

  it('over h2: an invalid :authority is refused like an invalid Host (management and proxied paths)', async () => {
    for (const path of ['/clients', '/app/x']) {
      const r = await h2(sess, path, { headers: { ':authority': 'evil.example:99999', 'x-api-key': API_KEY } });
      expect(r.status).toBe(400);
      expect(r.json.field).toBe('host');
      expect(r.text).not.toContain('evil');
    }
    // A valid :authority passes.
    expect((await h2(sess, '/clients', { headers: { ':authority': 'lb.test.local:8443', 'x-api-key': API_KEY } })).status).toBe(200);
  });

  it('proxy over h2: reaches the HTTP/1.1 backend without pseudo-headers, Host/X-Forwarded-Host from :authority, body without Content-Length', async () => {
    seen.length = 0;
    const r = await h2(sess, '/app/echo?q=1', { body: { hello: 'h2' }, headers: { ':authority': 'shop.example:8443', 'x-custom': 'kept', te: 'trailers' } });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ ok: true, path: '/app/echo?q=1' });
    expect(r.headers['x-backend']).toBe('yes');
    expect(r.headers['keep-alive']).toBeUndefined();
    expect(r.headers.via).toMatch(/vantage/);
    expect(seen).toHaveLength(1);
    const got = seen[0]!;
    expect(got.httpVersion).toBe('1.1');
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/app/echo?q=1');
    expect(got.body).toBe(JSON.stringify({ hello: 'h2' }));
    const names = got.rawHeaders.filter((_, i) => i % 2 === 0);
    expect(names.filter((h) => h.startsWith(':'))).toEqual([]);
    expect(got.headers.host).toBe(new URL(backendUrl).host);
    expect(got.headers['x-forwarded-host']).toBe('shop.example:8443');
    expect(got.headers['x-forwarded-proto']).toBe('https');
    expect(got.headers.forwarded).toContain('host="shop.example:8443"');
    expect(got.headers['x-custom']).toBe('kept');
    expect(got.headers.te).toBeUndefined();

    // A bodyless GET stays bodyless.
    const g = await h2(sess, '/app/get');
    expect(g.status).toBe(201);
    expect(seen[1]!.method).toBe('GET');
    expect(seen[1]!.body).toBe('');
    expect(seen[1]!.headers['transfer-encoding']).toBeUndefined();
  });

  it('WebSocket upgrades stay HTTP/1.1: tunnelled through the same TLS port to the backend', async () => {
    let backendSide: Duplex | null = null;
    backend.once('upgrade', (req: IncomingMessage, socket: Duplex) => {
      backendSide = socket;
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nx-saw-path: ${req.url}\r\n\r\n`);
      socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
      socket.on('end', () => socket.end()); // http.Server sockets are half-open: finish our side too
    });
    const t = await new Promise<TLSSocket>((resolve, reject) => {
      const c = tlsConnect({ port: s.port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => resolve(c));
      c.on('error', reject);
    });
    expect(t.alpnProtocol).toBe('http/1.1');
    let got = '';
    t.setEncoding('utf8');
    t.on('data', (d: string) => (got += d));
    t.write('GET /app/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    await waitFor(() => got.includes('\r\n\r\n'), 'the 101 head');
    expect(got).toMatch(/^HTTP\/1\.1 101 /);
    expect(got.toLowerCase()).toContain('x-saw-path: /app/ws');
    t.write('ping');
    await waitFor(() => got.endsWith('echo:ping'), 'the echo through the tunnel');
    // Closing the client end tears the tunnel down to the backend.
    const backendClosed = new Promise<void>((r) => backendSide!.once('close', () => r()));
    t.destroy();
    await backendClosed;
  });

  it('multiplexes many concurrent streams on one session, each answered correctly', async () => {
    const h2Sessions = async () => Number(/vantage_tls_connections_total\{protocol="h2"\} (\d+)/.exec((await h2(sess, '/metrics', { headers: { 'x-api-key': API_KEY } })).text)?.[1]);
    const sessionsBefore = await h2Sessions();
    const count = H2_LIMITS.maxConcurrentStreams + 72;
    const replies = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        i % 3 === 0
          ? h2(sess, `/route`, { body: { tier: `no-such-tier-${i}` }, headers: agent }).then((r) => ({ i, r }))
          : i % 3 === 1
            ? h2(sess, `/app/m${i}`).then((r) => ({ i, r }))
            : h2(sess, `/clients`, { headers: { 'x-api-key': API_KEY } }).then((r) => ({ i, r })),
      ),
    );
    for (const { i, r } of replies) {
      if (i % 3 === 0) {
        expect(r.status).toBe(400);
        expect(r.json.error).toContain(`no-such-tier-${i}`);
      } else if (i % 3 === 1) {
        expect(r.status).toBe(201);
        expect(r.json.path).toBe(`/app/m${i}`);
      } else {
        expect(r.status).toBe(200);
        expect(r.json[0].client_id).toBe('h2-backend');
      }
    }
    // All on the one session: the server saw no other h2 connection meanwhile.
    expect(await h2Sessions()).toBe(sessionsBefore);
    expect(sess.closed || sess.destroyed).toBe(false);
  });
});

describe('HTTP/2: Connect web API and CORS', () => {
  it('serves the Connect web API (JSON) over h2 behind the API key', async () => {
    const s = await start({ monitoring_enabled: true, worker_port: 0, worker_host: '127.0.0.1', api_keys: [API_KEY] });
    const sess = await session(s.url);
    const path = '/vantage.v1.MonitorsService/';
    const headers = { 'x-api-key': API_KEY, 'connect-protocol-version': '1' };
    expect((await h2(sess, `${path}ListMonitors`, { body: {} })).status).toBe(401);
    const created = await h2(sess, `${path}CreateMonitor`, {
      body: { monitor: { name: 'over-h2', url: 'http://127.0.0.1:9000/health', intervalMs: '30000', assertions: ['status == 200'] } },
      headers,
    });
    expect(created.status).toBe(200);
    expect(created.json.monitor.name).toBe('over-h2');
    const list = await h2(sess, `${path}ListMonitors`, { body: {}, headers });
    expect(list.status).toBe(200);
    expect(list.json.monitors.map((m: { name: string }) => m.name)).toEqual(['over-h2']);
    expect(list.headers['strict-transport-security']).toMatch(/max-age/);
  });

  it('answers CORS preflights and adds CORS headers over h2', async () => {
    const s = await start({ enable_cors: true, cors_allowed_origins: ['https://app.example.com'], proxy_endpoints: ['/app'] });
    const sess = await session(s.url);
    const pre = await h2(sess, '/app/x', { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const denied = await h2(sess, '/app/x', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(denied.status).toBe(403);
  });
});

describe('HTTP/2: rate limit, allow-list, crash containment, timeouts', () => {
  it('answers 429 with RateLimit headers over h2 (management and proxied paths)', async () => {
    const s = await start({ rate_limit_per_minute: 1, rate_limit_burst: 2, proxy_endpoints: ['/app'], rate_limit_exempt_agents: false });
    const sess = await session(s.url);
    const statuses: number[] = [];
    let limited: H2Reply | null = null;
    for (let i = 0; i < 3; i++) {
      const r = await h2(sess, '/clients');
      statuses.push(r.status);
      if (r.status === 429) limited = r;
      else expect(r.headers['ratelimit-limit']).toBe('2');
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(limited!.headers['retry-after']).toMatch(/^\d+$/);
    expect(limited!.headers['ratelimit-remaining']).toBe('0');
    const p: number[] = [];
    for (let i = 0; i < 3; i++) p.push((await h2(sess, '/app/x')).status);
    expect(p.slice(0, 2).every((x) => x !== 429)).toBe(true);
    const pr = await h2(sess, '/app/x');
    expect(pr.status).toBe(429);
    expect(pr.headers['ratelimit-remaining']).toBe('0');
  });

  it('refuses addresses outside whitelisted_ips over h2; /health stays open', async () => {
    const s = await start({ whitelisted_ips: ['10.0.0.0/8'] });
    const sess = await session(s.url);
    const r = await h2(sess, '/clients');
    expect(r.status).toBe(403);
    expect(r.json.error).toMatch(/whitelisted_ips/);
    expect((await h2(sess, '/health')).status).toBe(200);
  });

  it('contains a crash (500 JSON with a request id), answers the request timeout with 503, and keeps the session', async () => {
    const cfg = { request_timeout_seconds: 1 };
    const policy = compileSecurityPolicy(config(cfg), { https: true });
    const s = await start(cfg, {
      stages: {
        timeout: timeoutStage({ policy: () => policy }),
        allowList: (ctx, next) => {
          if (ctx.path === '/clients') throw new TypeError('handler exploded');
          if (ctx.path === '/clients/purge') return new Promise<void>(() => {}); // never answers
          return next();
        },
      },
    });
    const sess = await session(s.url);
    const crash = await h2(sess, '/clients');
    expect(crash.status).toBe(500);
    expect(crash.json.request_id).toMatch(/^[0-9a-f]{16}$/);
    expect(crash.text).not.toContain('exploded');
    const slow = await h2(sess, '/clients/purge', { method: 'POST' });
    expect(slow.status).toBe(503);
    expect(slow.json.error).toMatch(/request_timeout_seconds/);
    expect((await h2(sess, '/health')).status).toBe(200);
    expect(sess.destroyed).toBe(false);
  });

  it('a request body that never completes gets 408 after request_timeout_seconds and its stream is reset', async () => {
    const s = await start({ request_timeout_seconds: 1 });
    const sess = await session(s.url);
    const started = Date.now();
    const reply = await new Promise<{ status: number; text: string; closed: number }>((resolve, reject) => {
      const req = sess.request({ ':path': '/register', ':method': 'POST', 'content-type': 'application/json' }, { endStream: false });
      req.write('{"client_id": "slo'); // … and nothing more
      let status = 0;
      let text = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (d: string) => (text += d));
      req.on('close', () => resolve({ status, text, closed: Date.now() }));
      req.on('error', () => {});
      setTimeout(() => reject(new Error('stream still open after 8 s')), 8000).unref();
    });
    expect(reply.status).toBe(408);
    expect(JSON.parse(reply.text).error).toMatch(/request_timeout_seconds/);
    expect(reply.closed - started).toBeGreaterThanOrEqual(900);
    expect((await h2(sess, '/health')).status).toBe(200);
  });

  it('HTTP/1.1 on the HTTP/2 server keeps its limits: 408 for headers not sent within read_header_timeout_seconds, 400 without Host', async () => {
    const s = await start({ read_header_timeout_seconds: 1 });
    const raw = (text: string) =>
      new Promise<{ reply: string; ms: number }>((resolve, reject) => {
        const t0 = Date.now();
        const c = tlsConnect({ port: s.port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => c.write(text));
        let reply = '';
        c.setEncoding('utf8');
        c.on('data', (d: string) => (reply += d));
        c.on('close', () => resolve({ reply, ms: Date.now() - t0 }));
        c.on('error', reject);
      });
    const slow = await raw('GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: '); // headers never finish
    expect(slow.reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow.ms).toBeGreaterThanOrEqual(900);
    expect(slow.ms).toBeLessThan(5000); // Node's allowHTTP1 default would be 60 s
    const noHost = await raw('GET /health HTTP/1.1\r\n\r\n');
    expect(noHost.reply).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('plain HTTP sent to the TLS port is dropped without a plaintext answer; the server keeps serving', async () => {
    const s = await start();
    const reply = await new Promise<string>((resolve, reject) => {
      const c = netConnect({ port: s.port, host: '127.0.0.1' }, () => c.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n'));
      let got = '';
      c.setEncoding('latin1');
      c.on('data', (d: string) => (got += d));
      c.on('close', () => resolve(got));
      c.on('error', reject);
    });
    expect(reply).not.toContain('HTTP/1.1');
    expect((await h2(await session(s.url), '/health')).status).toBe(200);
  });

  it('closes a session that opens no stream within read_header_timeout_seconds, and an idle one after the keep-alive timeout', async () => {
    const s = await start({ read_header_timeout_seconds: 1 });
    // Handshake done, h2 negotiated, then silence: no preface, no stream.
    const silent = await new Promise<TLSSocket>((resolve, reject) => {
      const t = tlsConnect({ port: s.port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => resolve(t));
      t.on('error', reject);
    });
    expect(silent.alpnProtocol).toBe('h2');
    silent.resume(); // read what the server sends (SETTINGS, GOAWAY) and its end
    const t0 = Date.now();
    await new Promise<void>((r) => silent.once('close', () => r()));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);

    // Idle sessions follow server.keepAliveTimeout (idle_timeout_seconds, 120 s by default; shortened here).
    (s.httpServer as unknown as { keepAliveTimeout: number }).keepAliveTimeout = 200;
    const sess = await session(s.url);
    expect((await h2(sess, '/health')).status).toBe(200);
    const goaway = new Promise<void>((r) => sess.once('goaway', () => r()));
    await goaway;
    await new Promise<void>((r) => (sess.closed ? r() : sess.once('close', () => r())));
  });
});

describe('HTTP/2 graceful shutdown and certificate reload', () => {
  it('lets an in-flight h2 request finish, sends GOAWAY, and closes within the timeout', async () => {
    let release: (() => void) | null = null;
    const s = await start({}, {
      fallback: (_req, res) => {
        release = () => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('finished');
        };
        return true;
      },
    });
    const sess = await session(s.url);
    const h1socket = await new Promise<TLSSocket>((resolve, reject) => {
      const t = tlsConnect({ port: s.port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => resolve(t));
      t.on('error', reject);
    });
    const h1closed = new Promise<void>((r) => h1socket.once('close', () => r()));
    const inFlight = h2(sess, '/slow');
    await waitFor(() => release, 'the in-flight request');
    const goaway = new Promise<number>((r) => sess.once('goaway', (code: number) => r(code)));
    const t0 = Date.now();
    let closed = false;
    const closing = s.close({ timeoutMs: 5000 }).then(() => (closed = true));
    expect(await goaway).toBe(0);
    // After GOAWAY the session takes no new stream …
    await expect(h2(sess, '/health')).rejects.toThrow();
    // … and the server waits for the one in flight.
    expect(closed).toBe(false);
    release!();
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(r.text).toBe('finished');
    await closing;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(s.httpServer.listening).toBe(false);
    await h1closed;
  });

  it('drops an h2 request that outlives shutdown_timeout', async () => {
    const s = await start({}, { fallback: () => true }); // never answers
    const sess = await session(s.url);
    // Cut off: the stream ends without a response (no :status) or with an error.
    const stuck = h2(sess, '/stuck').then(
      (r) => (Number.isNaN(r.status) ? 'cut off' : `answered ${r.status}`),
      () => 'cut off',
    );
    await waitFor(() => s.inFlight() === 1, 'the in-flight request');
    const t0 = Date.now();
    await s.close({ timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await stuck).toBe('cut off');
    await new Promise<void>((r) => (sess.destroyed ? r() : sess.once('close', () => r())));
  });

  it('reloads the certificate (SIGHUP path): new handshakes get the new one, an open h2 session keeps working', async () => {
    const live = join(tmp.dir, 'live');
    mkdirSync(live);
    const liveCert = join(live, 'server.crt');
    const liveKey = join(live, 'server.key');
    copyFileSync(certA.cert, liveCert);
    copyFileSync(certA.key, liveKey);
    const cfg = config({ tls_cert_file: liveCert, tls_key_file: liveKey });
    const s = await startServer(cfg, { logger: pino({ level: 'silent' }) });
    running.push(s);
    const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;
    const peer = (sess: ClientHttp2Session) => (sess.socket as TLSSocket).getPeerCertificate().fingerprint256;

    const old = await session(s.url);
    expect(peer(old)).toBe(fingerprint(certA.cert));
    expect((await h2(old, '/health')).status).toBe(200);

    copyFileSync(certB.cert, liveCert);
    copyFileSync(certB.key, liveKey);
    const tls = s.reloadables.find((r) => r.name === 'tls')!;
    const commit = tls.prepare(cfg, cfg);
    commit();

    const fresh = await session(s.url);
    expect(fresh.alpnProtocol).toBe('h2');
    expect(peer(fresh)).toBe(fingerprint(certB.cert));
    expect((await h2(fresh, '/health')).status).toBe(200);
    // The session opened before the reload is still up, on the old certificate.
    expect(peer(old)).toBe(fingerprint(certA.cert));
    expect((await h2(old, '/health')).status).toBe(200);
    expect(old.destroyed).toBe(false);
  });

  it('http2: false serves HTTP/1.1 only (ALPN never picks h2)', async () => {
    const s = await start({ http2: false });
    expect(await negotiate(s.port, ['h2', 'http/1.1'])).toBe('http/1.1');
    const r = await h1(s.url, '/health');
    expect(r.status).toBe(200);
    expect(r.alpn).toBe('http/1.1');
    expect(r.headers['strict-transport-security']).toMatch(/max-age/);
  });
});

describe('upstream headers from an HTTP/2 request', () => {
  it('drops every pseudo-header and uses :authority as the client host; a Host header wins when both are sent', () => {
    const client = { remoteAddress: '10.0.0.9', proto: 'https' as const };
    const out = upstreamRequestHeaders([':method', 'GET', ':path', '/x', ':scheme', 'https', ':authority', 'a.example', ':protocol', 'websocket', 'accept', '*/*'], client);
    const names = out.filter((_, i) => i % 2 === 0);
    expect(names.filter((n) => n.startsWith(':'))).toEqual([]);
    expect(names).not.toContain('host');
    expect(out[out.indexOf('x-forwarded-host') + 1]).toBe('a.example');
    expect(out[out.indexOf('accept') + 1]).toBe('*/*');
    const both = upstreamRequestHeaders([':authority', 'a.example', 'host', 'b.example'], client);
    expect(both[both.indexOf('x-forwarded-host') + 1]).toBe('b.example');
  });
});
