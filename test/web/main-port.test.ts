/**
 * The dashboard under dashboard_path on the main port, over real HTTP against a real server (SQLite file, real
 * sockets, a real backend behind the built-in proxy): the SPA with its <base href>, assets as on the web port,
 * sign-in and a Connect call under /ui/ with the cookie (Path=/ui/), CSRF against the main port's own origin,
 * the live stream, `/*` proxy_endpoints not swallowing /ui/, the session cookie and X-CSRF-Token stripped
 * toward backends, dashboard_path disabled or moved, and the config errors of a bad dashboard_path.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { join } from 'node:path';
import { makeCert } from '../security/helpers.js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/load.js';
import { ServerConfigSchema } from '../../src/config/server.js';
import { listen, type Started } from '../proxy/helpers.js';
import { tempDir } from '../server/helpers.js';
import { call, fakeFrontEnd, sessionCookieOf, startWebServer, type Answer, type WebTestServer } from './auth-helpers.js';

let t: WebTestServer | null = null;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await t?.close();
  t = null;
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A backend that answers every request with the headers it received. */
async function echoBackend(): Promise<{ be: Started; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const be = await listen((req, res) => {
    seen.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ backend: true, url: req.url, headers: req.headers }));
  });
  cleanups.push(() => be.close());
  return { be, seen };
}

async function register(base: string, endpoint: string): Promise<void> {
  const headers = { 'content-type': 'application/json' };
  const reg = await call(base, '/register', {
    headers,
    body: {
      client_id: 'B1', hostname: 'B1', public_ip: '127.0.0.1', local_ip: '127.0.0.1', latitude: null, longitude: null, country: '', city: '',
      total_cpu: 4, total_memory_gb: 16, total_storage_gb: 100, endpoint_url: endpoint,
    },
  });
  expect(reg.status).toBe(200);
  const st = await call(base, '/stats', {
    headers,
    body: {
      client_id: 'B1', hostname: 'B1', timestamp: new Date().toISOString(), cpu_cores: 4, cpu_usage_avg: [5, 5, 5, 5],
      memory_total_gb: 16, memory_used_gb: 4, memory_avail_gb: 12, disk_total_gb: 100, disk_used_gb: 10, disk_avail_gb: 90,
    },
  });
  expect(st.status).toBe(200);
}

function setCookieLine(a: Answer): string {
  const sc = a.headers['set-cookie'];
  return (Array.isArray(sc) ? sc : [String(sc)]).find((l) => l.startsWith('vantage_session=')) ?? '';
}

/** Opens GET path as an event stream and resolves with its first chunk (then drops the connection). */
function firstChunk(base: string, path: string, cookie: string): Promise<{ status: number; type: string; chunk: string }> {
  return new Promise((resolve, reject) => {
    const r = httpRequest(new URL(path, base), { headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      res.once('data', (c: Buffer) => {
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), chunk: c.toString('utf8') });
        r.destroy();
      });
    });
    r.on('error', reject);
    r.end();
  });
}

async function startWithFrontEnd(over: Record<string, unknown> = {}): Promise<WebTestServer> {
  const tmp = tempDir('vantage-mainport-');
  cleanups.push(() => tmp.cleanup());
  return startWebServer(over, { staticDir: fakeFrontEnd(tmp.dir) });
}

describe('the dashboard under dashboard_path on the main port', () => {
  it('serves the SPA with its <base href>, assets as on the web port, deep links, and /ui → /ui/', async () => {
    t = await startWithFrontEnd();
    const main = t.server.url;
    expect(t.server.dashboardUrl).toBe(`${main}/ui/`);

    const bare = await call(main, '/ui?next=1');
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe('/ui/?next=1');

    const index = await call(main, '/ui/');
    expect(index.status).toBe(200);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.text).toContain('<base href="/ui/">');
    expect(index.text).toMatch(/<title>Vantage/);
    expect(index.headers['x-frame-options']).toBe('DENY');
    const deep = await call(main, '/ui/monitors/123');
    expect(deep.status).toBe(200);
    expect(deep.text).toBe(index.text);
    // The web port serves the same build at its root.
    const webIndex = await call(t.base, '/monitors/123');
    expect(webIndex.text).toContain('<base href="/">');

    const br = await call(main, '/ui/assets/app-1a2b3c.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.text).toBe('BROTLI-BYTES');
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const gz = await call(main, '/ui/assets/app-1a2b3c.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect((await call(main, '/ui/assets/missing-0000.js')).status).toBe(404);
    expect((await call(main, '/ui/api/nothing')).status).toBe(404);
    // Outside dashboard_path nothing changed: no proxy configured, so 404.
    expect((await call(main, '/monitors/123')).status).toBe(404);
  });

  it('signs in under /ui/ with a cookie of Path=/ui/, makes Connect calls (UserService too) with it, checks CSRF against the main origin', async () => {
    t = await startWithFrontEnd();
    const main = t.server.url;
    const session = await call(main, '/ui/api/auth/session');
    expect(session.status).toBe(401);
    expect(session.json.setupRequired).toBe(true);

    const setup = await call(main, '/ui/api/auth/setup', { body: { token: t.setupToken, username: 'admin', password: 'long-enough-1' }, origin: main });
    expect(setup.status).toBe(200);
    expect(setCookieLine(setup)).toMatch(/^vantage_session=[\w-]+\.[\w-]+; HttpOnly; SameSite=Lax; Path=\/ui\/; Max-Age=\d+$/);
    const cookie = sessionCookieOf(setup)!;
    const csrf = setup.json.csrfToken as string;

    const login = await call(main, '/ui/api/auth/login', { body: { username: 'admin', password: 'long-enough-1' }, origin: main });
    expect(login.status).toBe(200);
    expect(setCookieLine(login)).toMatch(/Path=\/ui\/;/);
    // The web port still sets its cookie at /.
    const webLogin = await call(t.base, '/api/auth/login', { body: { username: 'admin', password: 'long-enough-1' }, origin: t.origin });
    expect(setCookieLine(webLogin)).toMatch(/Path=\/;/);

    const me = await call(main, '/ui/api/auth/session', { cookie });
    expect(me.status).toBe(200);
    expect(me.json.user).toMatchObject({ username: 'admin', role: 'admin' });

    const profile = await call(main, '/ui/vantage.v1.UserService/GetProfile', { body: {}, cookie, csrf, origin: main });
    expect(profile.status).toBe(200);
    expect(JSON.stringify(profile.json)).toContain('admin');
    const list = await call(main, '/ui/vantage.v1.MonitorsService/ListMonitors', { body: {}, cookie, csrf, origin: main });
    expect(list.status).toBe(200);

    const noToken = await call(main, '/ui/vantage.v1.UserService/GetProfile', { body: {}, cookie, origin: main });
    expect(noToken.status).toBe(403);
    expect(noToken.json.code).toBe('permission_denied');
    const crossSite = await call(main, '/ui/vantage.v1.UserService/GetProfile', { body: {}, cookie, csrf, origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    // The web port's origin is another origin for the main port (and the other way round).
    const fromWebPort = await call(main, '/ui/vantage.v1.UserService/GetProfile', { body: {}, cookie, csrf, origin: t.origin });
    expect(fromWebPort.status).toBe(403);
    const signedOut = await call(main, '/ui/vantage.v1.UserService/GetProfile', { body: {}, origin: main });
    expect(signedOut.status).toBe(401);
    // The main port's own Connect path (API keys, no cookie) has no UserService and ignores the cookie.
    const rootConnect = await call(main, '/vantage.v1.UserService/GetProfile', { body: {}, cookie, csrf, origin: main });
    expect(rootConnect.status).not.toBe(200);

    // The live stream under /ui/api/live with the cookie.
    const live = await firstChunk(main, '/ui/api/live', cookie);
    expect(live.status).toBe(200);
    expect(live.type).toMatch(/text\/event-stream/);
    expect(live.chunk).toContain('retry: 3000');
    expect((await call(main, '/ui/api/live')).status).toBe(401);

    const out = await call(main, '/ui/api/auth/logout', { body: {}, cookie, csrf, origin: main });
    expect(out.status).toBe(204);
    expect(setCookieLine(out)).toMatch(/^vantage_session=; HttpOnly; SameSite=Lax; Path=\/ui\/; Max-Age=0$/);
    expect((await call(main, '/ui/api/auth/session', { cookie })).status).toBe(401);
  });

  it('wins over a "/*" proxy; the session cookie and X-CSRF-Token never reach the backend', async () => {
    const { be, seen } = await echoBackend();
    t = await startWithFrontEnd({ proxy_endpoints: ['/*'] });
    const main = t.server.url;
    await register(main, be.url);

    const index = await call(main, '/ui/');
    expect(index.text).toContain('<base href="/ui/">');
    expect((await call(main, '/ui')).status).toBe(308);
    expect((await call(main, '/ui/api/auth/session')).json.setupRequired).toBe(true);
    expect(seen).toHaveLength(0);

    const proxied = await call(main, '/app/page?x=1', { headers: { cookie: 'a=1; vantage_session=abc.def; b=2', 'x-csrf-token': 'tok', 'x-other': 'kept' } });
    expect(proxied.status).toBe(200);
    expect(proxied.json.backend).toBe(true);
    expect(proxied.json.url).toBe('/app/page?x=1');
    expect(seen[0]!.cookie).toBe('a=1; b=2');
    expect(seen[0]!['x-csrf-token']).toBeUndefined();
    expect(seen[0]!['x-other']).toBe('kept');

    await call(main, '/app/only', { headers: { cookie: 'vantage_session=abc.def' } });
    expect(seen[1]!.cookie).toBeUndefined();
    await call(main, '/app/none', { headers: { cookie: 'theme=dark' } });
    expect(seen[2]!.cookie).toBe('theme=dark');
    // A path that merely starts like the mount is the backend's.
    expect((await call(main, '/uix/page')).json.backend).toBe(true);
  });

  it('dashboard_path "" (or false) leaves the path to the proxy; another path moves the mount', async () => {
    const { be } = await echoBackend();
    t = await startWithFrontEnd({ proxy_endpoints: ['/*'], dashboard_path: false });
    expect(t.server.dashboardUrl).toBeNull();
    await register(t.server.url, be.url);
    const ui = await call(t.server.url, '/ui/');
    expect(ui.json.backend).toBe(true);
    expect((await call(t.server.url, '/ui/api/auth/session')).json.backend).toBe(true);
    // The web port is unaffected.
    expect((await call(t.base, '/api/auth/session')).status).toBe(401);
    await t.close();

    t = await startWithFrontEnd({ dashboard_path: '/ops/console/' });
    expect(t.server.dashboardUrl).toBe(`${t.server.url}/ops/console/`);
    expect((await call(t.server.url, '/ops/console/')).text).toContain('<base href="/ops/console/">');
    expect((await call(t.server.url, '/ops/console')).headers.location).toBe('/ops/console/');
    expect((await call(t.server.url, '/ui/')).status).toBe(404);
  });
});

/** One HTTP/2 request; the answer's status, headers and body. */
function h2(base: string, path: string, o: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const session = h2connect(base, { rejectUnauthorized: false });
    session.on('error', reject);
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = session.request({ ':method': o.method ?? (body ? 'POST' : 'GET'), ':path': path, ...(body ? { 'content-type': 'application/json' } : {}), ...(o.headers ?? {}) });
    let headers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ status: Number(headers[':status']), headers, text: Buffer.concat(chunks).toString('utf8') });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the dashboard under dashboard_path over HTTP/2 (main port with TLS)', () => {
  it('serves the SPA, signs in with a Secure cookie of Path=/ui/ and answers a Connect call', async () => {
    const tmp = tempDir('vantage-mainport-h2-');
    cleanups.push(() => tmp.cleanup());
    const cert = makeCert(join(tmp.dir, 'tls'), 'localhost');
    t = await startWebServer({ tls_cert_file: cert.cert, tls_key_file: cert.key }, { staticDir: fakeFrontEnd(tmp.dir) });
    const main = t.server.url;
    expect(main).toMatch(/^https:/);
    const index = await h2(main, '/ui/monitors/1');
    expect(index.status).toBe(200);
    expect(index.text).toContain('<base href="/ui/">');
    const setup = await h2(main, '/ui/api/auth/setup', { body: { token: t.setupToken, username: 'admin', password: 'long-enough-1' }, headers: { origin: main } });
    expect(setup.status).toBe(200);
    const setCookie = ([] as string[]).concat(setup.headers['set-cookie'] as string | string[]);
    expect(setCookie[0]).toMatch(/; Path=\/ui\/; Max-Age=\d+; Secure$/);
    const cookie = setCookie[0]!.split(';')[0]!;
    const csrf = (JSON.parse(setup.text) as { csrfToken: string }).csrfToken;
    const profile = await h2(main, '/ui/vantage.v1.UserService/GetProfile', { body: {}, headers: { origin: main, cookie, 'x-csrf-token': csrf } });
    expect(profile.status).toBe(200);
    expect(profile.text).toContain('admin');
    const plainOrigin = await h2(main, '/ui/vantage.v1.UserService/GetProfile', { body: {}, headers: { origin: main.replace('https:', 'http:'), cookie, 'x-csrf-token': csrf } });
    expect(plainOrigin.status).toBe(403);
  });
});

describe('dashboard_path in the configuration', () => {
  it('must start and end with "/" and not clash with a management path or the health path; errors name the key', () => {
    const problem = (v: unknown) => {
      const r = ServerConfigSchema.safeParse({ dashboard_path: v });
      return r.success ? null : `${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`;
    };
    expect(ServerConfigSchema.parse({}).dashboard_path).toBe('/ui/');
    expect(problem('/ui/')).toBeNull();
    expect(ServerConfigSchema.parse({ dashboard_path: false }).dashboard_path).toBe('');
    expect(ServerConfigSchema.parse({ dashboard_path: '' }).dashboard_path).toBe('');
    expect(problem('/ui')).toMatch(/^dashboard_path: expected a path that starts and ends with "\/"/);
    expect(problem('ui/')).toMatch(/^dashboard_path: expected/);
    expect(problem('/')).toMatch(/^dashboard_path: expected/);
    expect(problem('/health/')).toMatch(/^dashboard_path: expected a path that does not clash with the management path \/health \(the health path\)/);
    expect(problem('/clients/')).toMatch(/does not clash with the management path \/clients$/);
    expect(problem('/reservations/ui/')).toMatch(/does not clash with the management paths under \/reservations\//);
    expect(problem('/vantage.v1.ui/')).toMatch(/does not clash with the management paths under \/vantage\.v1\./);
    expect(problem('/a b/')).toMatch(/^dashboard_path: expected letters/);
    expect(problem(3)).toMatch(/^dashboard_path: expected a path/);
  });

  it('from the environment: "false" disables it; a clash stops the load naming the key', () => {
    expect(loadServerConfig({ env: { VANTAGE_DASHBOARD_PATH: 'false' } }).config.dashboard_path).toBe('');
    expect(() => loadServerConfig({ env: { VANTAGE_DASHBOARD_PATH: '/metrics/' } })).toThrow(/dashboard_path: expected a path that does not clash with the management path \/metrics, got "\/metrics\/"/);
  });
});
