/**
 * Auth in a real browser: Chromium against a real `vantage server --with-agent` (HTTPS web port with its
 * self-signed certificate, SQLite in a temp dir). The setup link works once; a wrong password is refused;
 * repeated failures are throttled; a viewer sees no edit controls and the API refuses the edit too; a
 * cross-site POST carrying the session cookie is refused; logout and session expiry end access.
 */
import { createServer, type Server } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowser, screenshot, watchErrors, type TestBrowser } from './support/browser.js';
import { startBrowserServer, type BrowserServer } from './support/server.js';

const ADMIN = { username: 'admin', password: 'admin-password-1' };
const VIEWER = { username: 'vic', password: 'viewer-password-1' };
let server: BrowserServer;
let browser: TestBrowser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [server, browser] = await Promise.all([startBrowserServer({ apiKeys: ['browser-test-key-1'] }), launchBrowser()]);
});
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await server?.stop();
});

async function newPage(): Promise<{ page: Page; errors: string[]; context: BrowserContext }> {
  const context = await browser.context();
  contexts.push(context);
  const page = await context.newPage();
  return { page, errors: watchErrors(page), context };
}

async function fillCredentials(page: Page, who: { username: string; password: string }, button: 'Sign in' | 'Create admin'): Promise<void> {
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: button }).click();
}

async function signIn(page: Page, who: { username: string; password: string }): Promise<void> {
  await page.goto(server.web + '/');
  await fillCredentials(page, who, 'Sign in');
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** A Connect call from inside the page, as the front end makes it (same origin, cookie, CSRF token). */
async function rpcInPage(page: Page, method: string, body: unknown): Promise<{ status: number; json: { code?: string; message?: string } }> {
  return page.evaluate(
    async ([m, b]) => {
      const s = (await (await fetch('/api/auth/session')).json()) as { csrfToken: string };
      const r = await fetch(`/vantage.v1.${m as string}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken }, body: JSON.stringify(b) });
      return { status: r.status, json: (await r.json()) as { code?: string; message?: string } };
    },
    [method, body] as const,
  );
}

describe('auth in the browser', () => {
  it('the setup link creates the first admin, and works only once', async () => {
    expect(server.setupLink).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/setup\?token=/);
    const { page, errors } = await newPage();
    await page.goto(server.setupLink!);
    await screenshot(page, 'setup');
    await fillCredentials(page, ADMIN, 'Create admin');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await screenshot(page, 'after-setup');
    expect(errors).toEqual([]);

    const second = await newPage();
    await second.page.goto(server.setupLink!);
    await fillCredentials(second.page, { username: 'intruder', password: 'intruder-password' }, 'Create admin');
    await expect.poll(() => second.page.getByRole('alert').textContent()).toMatch(/used already or has expired/);
    await screenshot(second.page, 'setup-used');
  });

  it('a wrong password is refused', async () => {
    const { page, errors } = await newPage();
    await page.goto(server.web + '/');
    await fillCredentials(page, { username: ADMIN.username, password: 'not-the-password' }, 'Sign in');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/wrong username or password/);
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    await screenshot(page, 'wrong-password');
    expect(errors).toEqual([]);
  });

  it('repeated failures are throttled, even with the right password', async () => {
    const { page } = await newPage();
    // A user of its own: the admin's failures must not lock the other tests out.
    const admin = await newPage();
    await signIn(admin.page, ADMIN);
    expect((await rpcInPage(admin.page, 'UserService/CreateUser', { username: 'tess', password: 'tess-password-1', role: 'viewer' })).status).toBe(200);
    await page.goto(server.web + '/');
    for (let i = 0; i < 5; i++) {
      await fillCredentials(page, { username: 'tess', password: `wrong-${i}` }, 'Sign in');
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/wrong username or password/);
      await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
    }
    await fillCredentials(page, { username: 'tess', password: 'tess-password-1' }, 'Sign in');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/too many failed sign-ins.*try again in \d+ s/);
    await screenshot(page, 'throttled');
  });

  it('a viewer sees no edit controls, and the API refuses the edit too', async () => {
    const admin = await newPage();
    await signIn(admin.page, ADMIN);
    expect((await rpcInPage(admin.page, 'UserService/CreateUser', { username: VIEWER.username, password: VIEWER.password, role: 'viewer' })).status).toBe(200);
    await admin.page.goto(server.web + '/monitors');
    await admin.page.getByRole('button', { name: 'New monitor' }).waitFor();

    const { page, errors } = await newPage();
    await signIn(page, VIEWER);
    await page.goto(server.web + '/monitors');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('button', { name: 'New monitor' }).count()).toBe(0);
    await screenshot(page, 'viewer-monitors');
    const edit = await rpcInPage(page, 'MonitorsService/CreateMonitor', { monitor: { name: 'by-viewer', type: 'http', url: 'http://127.0.0.1:9/', intervalMs: 30000, timeoutMs: 5000 } });
    expect(edit.status).toBe(403);
    expect(edit.json.code).toBe('permission_denied');
    expect(errors).toEqual([]);
  });

  it('a cross-site POST carrying the session cookie is refused (CSRF)', async () => {
    const { page, context } = await newPage();
    await signIn(page, ADMIN);
    // The attacker's page: another origin on the same host (same site, so SameSite=Lax still sends the cookie;
    // only the origin check and the token stand in the way), served over HTTPS with the same certificate.
    const cert = readFileSync(join(server.dir, 'web-tls', 'cert.pem'));
    const key = readFileSync(join(server.dir, 'web-tls', 'key.pem'));
    const target = `${server.web}/vantage.v1.MonitorsService/CreateMonitor`;
    const evil: Server = createServer({ cert, key }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form id="f" method="POST" action="${target}" enctype="text/plain"><input name='{"monitor":{"name":"csrf","type":"http","url":"http://127.0.0.1:9/","intervalMs":30000,"timeoutMs":5000},"x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    try {
      const attacker = await context.newPage();
      const answer = attacker.waitForResponse((r) => r.url() === target);
      await attacker.goto(`https://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const res = await answer;
      expect(res.request().headers()['cookie'] ?? (await res.request().allHeaders())['cookie']).toMatch(/vantage_session=/);
      expect(res.status()).toBe(403);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe('permission_denied');
      expect(body.message).toMatch(/csrf: cross-site request refused/);
      await screenshot(attacker, 'csrf-refused');
    } finally {
      evil.close();
    }
    const list = await rpcInPage(page, 'MonitorsService/ListMonitors', {});
    expect(JSON.stringify(list.json)).not.toMatch(/"name":"csrf"/);
  });

  it('logout ends access', async () => {
    const { page, context, errors } = await newPage();
    await signIn(page, ADMIN);
    const cookie = (await context.cookies()).find((c) => c.name === 'vantage_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect((await context.cookies()).find((c) => c.name === 'vantage_session')).toBeUndefined();
    // The old cookie, replayed, no longer names a session.
    const replay = await page.request.get(`${server.web}/api/auth/session`, { headers: { cookie: `vantage_session=${cookie.value}` } });
    expect(replay.status()).toBe(401);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(errors).toEqual([]);
  });
});

describe('session expiry in the browser', () => {
  let short: BrowserServer;
  beforeAll(async () => {
    short = await startBrowserServer({ withAgent: false, args: ['--session-ttl', '3s'] });
  });
  afterAll(async () => {
    await short?.stop();
  });

  it('an expired session ends access: the next load shows the sign-in form', async () => {
    const { page } = await newPage();
    await page.goto(short.setupLink!);
    await fillCredentials(page, ADMIN, 'Create admin');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    const signedInAt = Date.now();
    // Reload until the server says the session is over (at most a few seconds past its 3 s).
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.waitForLoadState('networkidle');
          return page.getByRole('button', { name: 'Sign in' }).count();
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(1);
    expect(Date.now() - signedInAt).toBeGreaterThanOrEqual(2_500);
    await screenshot(page, 'expired');
  });
});
