/** A real server with its web port (in process, plain HTTP unless asked) and a raw HTTP client for it. */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { testServerConfig, tempDir } from '../server/helpers.js';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  cookie?: string | null;
  origin?: string | null;
  csrf?: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

/** One request with exactly the given headers (no cookie jar, no implicit Origin). */
export function call(base: string, path: string, o: CallOptions = {}): Promise<Answer> {
  const url = new URL(path, base);
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  if (o.cookie) headers.cookie = o.cookie;
  if (o.origin) headers.origin = o.origin;
  if (o.csrf) headers['x-csrf-token'] = o.csrf;
  if (o.apiKey) headers['x-api-key'] = o.apiKey;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = send(url, { method: o.method ?? (body === undefined ? 'GET' : 'POST'), headers, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = undefined;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** The `vantage_session=…` pair of an answer's Set-Cookie, or null. */
export function sessionCookieOf(a: Answer): string | null {
  const sc = a.headers['set-cookie'];
  const line = (Array.isArray(sc) ? sc : sc ? [sc] : []).find((l) => l.startsWith('vantage_session='));
  return line ? line.split(';')[0]! : null;
}

export interface WebTestServer {
  server: RunningServer;
  base: string;
  origin: string;
  dir: string;
  setupToken: string | null;
  clock: { now: number };
  close(): Promise<void>;
}

/** Starts a server with its web port on loopback; `over` sets config keys. The clock is the test's to move. */
export async function startWebServer(over: Record<string, unknown> = {}, opts: { dir?: string; staticDir?: string | null; clock?: { now: number } } = {}): Promise<WebTestServer> {
  const tmp = opts.dir ? { dir: opts.dir, cleanup: () => {} } : tempDir('vantage-web-');
  const clock = opts.clock ?? { now: Date.now() };
  const config = testServerConfig(tmp.dir, { web_port: 0, web_tls_disable: true, ...over });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), now: () => clock.now, web: { staticDir: opts.staticDir ?? null } });
  const web = server.web!;
  const base = web.web.url;
  return {
    server,
    base,
    origin: base,
    dir: tmp.dir,
    setupToken: web.setupLink ? new URL(web.setupLink).searchParams.get('token') : null,
    clock,
    close: async () => {
      await server.close({ timeoutMs: 1000 });
      if (!opts.dir) tmp.cleanup();
    },
  };
}

/** Creates the first admin through the setup token; returns its cookie and CSRF token. */
export async function setupAdmin(t: WebTestServer, username = 'admin', password = 'admin-password-1'): Promise<{ cookie: string; csrf: string }> {
  const a = await call(t.base, '/api/auth/setup', { body: { token: t.setupToken, username, password }, origin: t.origin });
  if (a.status !== 200) throw new Error(`setup failed: ${a.status} ${a.text}`);
  return { cookie: sessionCookieOf(a)!, csrf: a.json.csrfToken as string };
}

export async function login(t: WebTestServer, username: string, password: string): Promise<{ cookie: string; csrf: string }> {
  const a = await call(t.base, '/api/auth/login', { body: { username, password }, origin: t.origin });
  if (a.status !== 200) throw new Error(`login failed: ${a.status} ${a.text}`);
  return { cookie: sessionCookieOf(a)!, csrf: a.json.csrfToken as string };
}

/** A Connect call as a signed-in browser would make it (same origin, CSRF token). */
export function rpc(t: WebTestServer, method: string, body: unknown, s: { cookie: string; csrf: string } | null, over: CallOptions = {}): Promise<Answer> {
  return call(t.base, `/vantage.v1.${method}`, { body, cookie: s?.cookie, csrf: s?.csrf, origin: t.origin, ...over });
}

/** A built front end: index.html, a hashed asset with .br/.gz siblings. */
export function fakeFrontEnd(dir: string): string {
  const root = join(dir, 'web');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Vantage</title><div id="root"></div>');
  writeFileSync(join(root, 'assets', 'app-1a2b3c.js'), 'console.log("plain")');
  writeFileSync(join(root, 'assets', 'app-1a2b3c.js.br'), 'BROTLI-BYTES');
  writeFileSync(join(root, 'assets', 'app-1a2b3c.js.gz'), 'GZIP-BYTES');
  writeFileSync(join(root, 'favicon.svg'), '<svg/>');
  return root;
}
