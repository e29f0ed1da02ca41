/**
 * The web listener itself over real sockets: the self-signed certificate generated once into the state dir
 * and reused (HTTPS by default, Secure cookies), the static front end (immutable hashed assets, precompressed
 * siblings, no-cache index, SPA fallback, API paths and traversal not served) and the order routes run in.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startServer } from '../../src/app/server.js';
import { loadServerConfig } from '../../src/config/load.js';
import { call, fakeFrontEnd, sessionCookieOf, startWebServer, type WebTestServer } from './auth-helpers.js';
import { tempDir, testServerConfig } from '../server/helpers.js';

let t: WebTestServer | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

describe('TLS', () => {
  it('serves HTTPS by default with a self-signed certificate kept in the state dir; cookies are Secure', async () => {
    t = await startWebServer({ web_tls_disable: false });
    expect(t.base).toMatch(/^https:\/\//);
    const certFile = join(t.dir, 'web-tls', 'cert.pem');
    const cert = new X509Certificate(readFileSync(certFile));
    expect(cert.subjectAltName).toMatch(/DNS:localhost/);
    expect(cert.subjectAltName).toMatch(/IP Address:127\.0\.0\.1/);
    expect(statSync(join(t.dir, 'web-tls', 'key.pem')).mode & 0o777).toBe(0o600);
    const a = await call(t.base, '/api/auth/setup', { body: { token: t.setupToken, username: 'admin', password: 'long-enough-1' }, origin: t.origin });
    expect(a.status).toBe(200);
    expect(String(a.headers['set-cookie'])).toMatch(/; Secure/);
    expect(a.headers['strict-transport-security']).toBeDefined();
    const dir = t.dir;
    await t.server.close({ timeoutMs: 1000 });
    t = await startWebServer({ web_tls_disable: false }, { dir });
    expect(new X509Certificate(readFileSync(certFile)).fingerprint256).toBe(cert.fingerprint256);
    expect((await call(t.base, '/api/auth/session', { cookie: sessionCookieOf(a) })).status).toBe(200);
  });

  it('WEB_TLS_DISABLE=true (the seed\'s variable) turns TLS off', () => {
    expect(loadServerConfig({ env: { WEB_TLS_DISABLE: 'true' } }).config.web_tls_disable).toBe(true);
    expect(loadServerConfig({ env: {} }).config.web_tls_disable).toBe(false);
    expect(loadServerConfig({ env: { WEB_TLS_DISABLE: 'true', VANTAGE_WEB_TLS_DISABLE: 'false' } }).config.web_tls_disable).toBe(false);
  });

  it('a taken web_port stops the start naming the setting', async () => {
    t = await startWebServer();
    const port = Number(new URL(t.base).port);
    const tmp = tempDir();
    try {
      await expect(startServer(testServerConfig(tmp.dir, { web_port: port }), { logger: pino({ level: 'silent' }), web: true })).rejects.toThrow(/web_port/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('static front end', () => {
  it('hashed assets immutable, precompressed siblings, index no-cache, SPA fallback, no API or traversal', async () => {
    const tmp = tempDir('vantage-static-');
    const root = fakeFrontEnd(tmp.dir);
    try {
      t = await startWebServer({}, { staticDir: root });
      const plain = await call(t.base, '/assets/app-1a2b3c.js');
      expect(plain.status).toBe(200);
      expect(plain.text).toBe('console.log("plain")');
      expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(plain.headers['content-type']).toMatch(/javascript/);
      const br = await call(t.base, '/assets/app-1a2b3c.js', { headers: { 'accept-encoding': 'gzip, br' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.text).toBe('BROTLI-BYTES');
      const gz = await call(t.base, '/assets/app-1a2b3c.js', { headers: { 'accept-encoding': 'gzip, br;q=0' } });
      expect(gz.headers['content-encoding']).toBe('gzip');
      const index = await call(t.base, '/');
      expect(index.headers['cache-control']).toBe('no-cache');
      expect(index.text).toMatch(/<title>Vantage/);
      const spa = await call(t.base, '/monitors/mon_123');
      expect(spa.status).toBe(200);
      expect(spa.text).toBe(index.text);
      expect((await call(t.base, '/favicon.svg')).headers['cache-control']).toBe('no-cache');
      expect((await call(t.base, '/assets/missing-0000.js')).status).toBe(404);
      expect((await call(t.base, '/api/nothing')).status).toBe(404);
      expect((await call(t.base, '/api/nothing')).json.error).toMatch(/not found/);
      expect((await call(t.base, '/%2e%2e/%2e%2e/etc/passwd')).text).toBe(index.text);
      expect((await call(t.base, '/', { method: 'POST', body: {} , origin: t.origin})).status).toBe(404);
      expect(index.headers['x-content-type-options']).toBe('nosniff');
      expect(index.headers['x-frame-options']).toBe('DENY');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('routes', () => {
  it('run after auth and Connect, before static, with the principal; a cookie POST without the token is refused; public pages act for nobody', async () => {
    const tmp = tempDir('vantage-routes-');
    const seen: Array<string | null> = [];
    const config = testServerConfig(tmp.dir, { web_port: 0, web_tls_disable: true });
    const server = await startServer(config, {
      logger: pino({ level: 'silent' }),
      web: {
        staticDir: fakeFrontEnd(tmp.dir),
        routes: [
          (req, res, principal) => {
            const page = req.url?.startsWith('/status/') ? 'status page' : req.url?.startsWith('/team/') ? 'team page' : null;
            if (page === null) return false;
            seen.push(principal?.kind === 'user' ? principal.username : null);
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end(page);
            return true;
          },
        ],
      },
    });
    try {
      const base = server.web!.web.url;
      const token = new URL(server.web!.setupLink!).searchParams.get('token');
      const setup = await call(base, '/api/auth/setup', { body: { token, username: 'admin', password: 'long-enough-1' }, origin: base });
      const cookie = sessionCookieOf(setup)!;
      expect((await call(base, '/team/main')).text).toBe('team page');
      expect((await call(base, '/team/main', { cookie })).text).toBe('team page');
      expect(seen).toEqual([null, 'admin']);
      const post = await call(base, '/team/main/edit', { body: {}, cookie, origin: 'https://evil.example' });
      expect(post.status).toBe(403);
      expect(post.json.error).toMatch(/csrf/);
      expect((await call(base, '/team/main/edit', { body: {}, origin: 'https://evil.example' })).status).toBe(200);
      // A public status page never sees the session, so a signed-in visitor's form POST needs no token.
      seen.length = 0;
      expect((await call(base, '/status/main', { cookie })).text).toBe('status page');
      expect((await call(base, '/status/main/subscribe', { body: {}, cookie, origin: 'https://evil.example' })).status).toBe(200);
      expect(seen).toEqual([null, null]);
    } finally {
      await server.close({ timeoutMs: 1000 });
      tmp.cleanup();
    }
  });
});
