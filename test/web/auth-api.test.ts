/**
 * Every auth rule of the web port over real HTTP against a real server (SQLite file, real sockets): the setup
 * link, sign-in and throttling, cookie attributes and rotation, logout, expiry, CSRF (origin and token), roles
 * on Connect methods for users and role-carrying API keys, sessions dropped on password change and removal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { call, login, rpc, sessionCookieOf, setupAdmin, startWebServer, type WebTestServer } from './auth-helpers.js';

let t: WebTestServer | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const monitorBody = { monitor: { name: 'site', type: 'http', url: 'http://127.0.0.1:9/', intervalMs: 30000, timeoutMs: 5000 } };

describe('setup link', () => {
  it('creates the first admin once; bad input names the field; a wrong origin is refused', async () => {
    t = await startWebServer();
    expect(t.setupToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const before = await call(t.base, '/api/auth/session');
    expect(before.status).toBe(401);
    expect(before.json).toEqual({ error: 'not signed in', setupRequired: true });

    const bad = await call(t.base, '/api/auth/setup', { body: { token: t.setupToken, username: 'admin', password: 'short' }, origin: t.origin });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/^password: expected at least 8/);
    const badName = await call(t.base, '/api/auth/setup', { body: { token: t.setupToken, username: 'no spaces', password: 'long-enough-1' }, origin: t.origin });
    expect(badName.json.error).toMatch(/^username:/);
    const missing = await call(t.base, '/api/auth/setup', { body: { username: 'a', password: 'long-enough-1' }, origin: t.origin });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toMatch(/^token:/);
    const notJson = await call(t.base, '/api/auth/setup', { body: '{nope', origin: t.origin });
    expect(notJson.status).toBe(400);
    const crossSite = await call(t.base, '/api/auth/setup', { body: { token: t.setupToken, username: 'evil', password: 'long-enough-1' }, origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(crossSite.json.error).toMatch(/csrf/);
    const wrongToken = await call(t.base, '/api/auth/setup', { body: { token: 'x'.repeat(32), username: 'admin', password: 'long-enough-1' }, origin: t.origin });
    expect(wrongToken.status).toBe(410);

    const ok = await call(t.base, '/api/auth/setup', { body: { token: t.setupToken, username: 'admin', password: 'long-enough-1' }, origin: t.origin });
    expect(ok.status).toBe(200);
    expect(ok.json.user).toMatchObject({ username: 'admin', role: 'admin' });
    expect(typeof ok.json.csrfToken).toBe('string');
    const setCookie = String(ok.headers['set-cookie']);
    expect(setCookie).toMatch(/^vantage_session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; HttpOnly; SameSite=Lax; Path=\//);
    expect(setCookie).not.toMatch(/Secure/); // plain HTTP here; the TLS test checks Secure

    const again = await call(t.base, '/api/auth/setup', { body: { token: t.setupToken, username: 'second', password: 'long-enough-1' }, origin: t.origin });
    expect(again.status).toBe(410);
    const after = await call(t.base, '/api/auth/session');
    expect(after.json.setupRequired).toBe(false);
    const me = await call(t.base, '/api/auth/session', { cookie: sessionCookieOf(ok) });
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ user: ok.json.user, csrfToken: ok.json.csrfToken });
  });

  it('expires after an hour', async () => {
    t = await startWebServer();
    t.clock.now += 3_600_001;
    const late = await call(t.base, '/api/auth/setup', { body: { token: t.setupToken, username: 'admin', password: 'long-enough-1' }, origin: t.origin });
    expect(late.status).toBe(410);
  });
});

describe('sign-in', () => {
  it('refuses a wrong password and an unknown user alike, rotates the session at sign-in', async () => {
    t = await startWebServer();
    const first = await setupAdmin(t, 'admin', 'right-password');
    const wrong = await call(t.base, '/api/auth/login', { body: { username: 'admin', password: 'wrong-password' }, origin: t.origin });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: 'wrong username or password' });
    expect(sessionCookieOf(wrong)).toBeNull();
    const unknown = await call(t.base, '/api/auth/login', { body: { username: 'ghost', password: 'wrong-password' }, origin: t.origin });
    expect(unknown.json).toEqual(wrong.json);
    const noOrigin = await call(t.base, '/api/auth/login', { body: { username: 'admin', password: 'right-password' } });
    expect(noOrigin.status).toBe(403);

    // Signing in with the old cookie ends that session: a new id, the old one refused.
    const again = await call(t.base, '/api/auth/login', { body: { username: 'ADMIN', password: 'right-password' }, origin: t.origin, cookie: first.cookie });
    expect(again.status).toBe(200);
    const second = sessionCookieOf(again)!;
    expect(second).not.toBe(first.cookie);
    expect(again.json.csrfToken).not.toBe(first.csrf);
    expect((await call(t.base, '/api/auth/session', { cookie: first.cookie })).status).toBe(401);
    expect((await call(t.base, '/api/auth/session', { cookie: second })).status).toBe(200);
  });

  it('throttles a username after repeated failures, with Retry-After, until the window passes', async () => {
    t = await startWebServer({ login_max_failures_per_user: 3, login_throttle_window: '10m' });
    await setupAdmin(t, 'admin', 'right-password');
    for (let i = 0; i < 3; i++) {
      expect((await call(t.base, '/api/auth/login', { body: { username: 'admin', password: `wrong-${i}` }, origin: t.origin })).status).toBe(401);
    }
    const blocked = await call(t.base, '/api/auth/login', { body: { username: 'admin', password: 'right-password' }, origin: t.origin });
    expect(blocked.status).toBe(429);
    expect(blocked.json.retryAfterSeconds).toBeGreaterThan(590);
    expect(blocked.json.retryAfterSeconds).toBeLessThanOrEqual(600);
    expect(blocked.headers['retry-after']).toBe(String(blocked.json.retryAfterSeconds));
    t.clock.now += 600_001;
    expect((await call(t.base, '/api/auth/login', { body: { username: 'admin', password: 'right-password' }, origin: t.origin })).status).toBe(200);
  });

  it('throttles one address trying many usernames', async () => {
    t = await startWebServer({ login_max_failures_per_ip: 4 });
    await setupAdmin(t);
    for (let i = 0; i < 4; i++) await call(t.base, '/api/auth/login', { body: { username: `user${i}`, password: 'whatever-1' }, origin: t.origin });
    const blocked = await call(t.base, '/api/auth/login', { body: { username: 'admin', password: 'admin-password-1' }, origin: t.origin });
    expect(blocked.status).toBe(429);
    expect(blocked.json.error).toMatch(/your address/);
  });

  it('concurrent failed sign-ins are all counted', async () => {
    t = await startWebServer({ login_max_failures_per_user: 5 });
    await setupAdmin(t);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => call(t!.base, '/api/auth/login', { body: { username: 'admin', password: `bad-${i}` }, origin: t!.origin })));
    const statuses = answers.map((a) => a.status);
    // Every attempt is checked before its password is: at most 5 reach the password check before the lock.
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(5);
    expect((await call(t.base, '/api/auth/login', { body: { username: 'admin', password: 'admin-password-1' }, origin: t.origin })).status).toBe(429);
  });
});

describe('sessions', () => {
  it('logout deletes the session and clears the cookie; it needs the CSRF token', async () => {
    t = await startWebServer();
    const s = await setupAdmin(t);
    const noToken = await call(t.base, '/api/auth/logout', { method: 'POST', cookie: s.cookie, origin: t.origin });
    expect(noToken.status).toBe(403);
    const out = await call(t.base, '/api/auth/logout', { method: 'POST', cookie: s.cookie, origin: t.origin, csrf: s.csrf });
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^vantage_session=; .*Max-Age=0/);
    expect((await call(t.base, '/api/auth/session', { cookie: s.cookie })).status).toBe(401);
    expect((await rpc(t, 'UserService/GetProfile', {}, s)).status).toBe(401);
  });

  it('expire session_ttl after sign-in', async () => {
    t = await startWebServer({ session_ttl: '2h' });
    const s = await setupAdmin(t);
    t.clock.now += 2 * 3_600_000 - 1000;
    expect((await call(t.base, '/api/auth/session', { cookie: s.cookie })).status).toBe(200);
    t.clock.now += 1000;
    expect((await call(t.base, '/api/auth/session', { cookie: s.cookie })).status).toBe(401);
  });

  it('a tampered or foreign cookie is refused', async () => {
    t = await startWebServer();
    const s = await setupAdmin(t);
    const [id, sig] = s.cookie.slice('vantage_session='.length).split('.');
    expect((await call(t.base, '/api/auth/session', { cookie: `vantage_session=${id}.${sig!.slice(1)}A` })).status).toBe(401);
    expect((await call(t.base, '/api/auth/session', { cookie: `vantage_session=${id}` })).status).toBe(401);
    expect((await call(t.base, '/api/auth/session', { cookie: `vantage_session=x${id}.${sig}` })).status).toBe(401);
  });

  it('a password change ends every session of the user; removal ends them too', async () => {
    t = await startWebServer();
    const admin = await setupAdmin(t);
    expect((await rpc(t, 'UserService/CreateUser', { username: 'eve', password: 'eve-password-1', role: 'editor' }, admin)).status).toBe(200);
    const a = await login(t, 'eve', 'eve-password-1');
    const b = await login(t, 'eve', 'eve-password-1');
    const wrong = await rpc(t, 'UserService/ChangePassword', { currentPassword: 'nope', newPassword: 'eve-password-2' }, a);
    expect(wrong.json.message).toMatch(/currentPassword/);
    const changed = await rpc(t, 'UserService/ChangePassword', { currentPassword: 'eve-password-1', newPassword: 'eve-password-2' }, a);
    expect(changed.status).toBe(200);
    expect((await call(t.base, '/api/auth/session', { cookie: a.cookie })).status).toBe(401);
    expect((await call(t.base, '/api/auth/session', { cookie: b.cookie })).status).toBe(401);
    const c = await login(t, 'eve', 'eve-password-2');
    const list = await rpc(t, 'UserService/ListUsers', {}, admin);
    const eve = (list.json.users as { id: string; username: string }[]).find((u) => u.username === 'eve')!;
    expect((await rpc(t, 'UserService/DeleteUser', { id: eve.id }, admin)).status).toBe(200);
    expect((await call(t.base, '/api/auth/session', { cookie: c.cookie })).status).toBe(401);
  });

  it('the generated session secret is stored: a session survives a restart', async () => {
    t = await startWebServer();
    const dir = t.dir;
    const s = await setupAdmin(t);
    await t.server.close({ timeoutMs: 1000 });
    const restarted = await startWebServer({}, { dir });
    try {
      expect(restarted.setupToken).toBeNull(); // a user exists: no setup link
      expect((await call(restarted.base, '/api/auth/session', { cookie: s.cookie })).status).toBe(200);
    } finally {
      await restarted.close();
    }
  });
});

describe('CSRF', () => {
  it('a Connect call with the cookie needs the token and the same origin; X-API-Key needs neither', async () => {
    t = await startWebServer({ api_keys: ['automation-key-1'] });
    const s = await setupAdmin(t);
    const noToken = await rpc(t, 'MonitorsService/CreateMonitor', monitorBody, { cookie: s.cookie, csrf: '' });
    expect(noToken.status).toBe(403);
    expect(noToken.json).toMatchObject({ code: 'permission_denied' });
    expect(noToken.json.message).toMatch(/csrf/);
    const crossSite = await rpc(t, 'MonitorsService/CreateMonitor', monitorBody, s, { origin: 'http://evil.example' });
    expect(crossSite.status).toBe(403);
    const refererOnly = await rpc(t, 'MonitorsService/ListMonitors', {}, s, { origin: null, headers: { referer: `${t.base}/monitors` } });
    expect(refererOnly.status).toBe(200);
    const otherSession = await rpc(t, 'MonitorsService/ListMonitors', {}, { cookie: s.cookie, csrf: 'a'.repeat(43) });
    expect(otherSession.status).toBe(403);
    const ok = await rpc(t, 'MonitorsService/CreateMonitor', monitorBody, s);
    expect(ok.status).toBe(200);
    const byKey = await call(t.base, '/vantage.v1.MonitorsService/ListMonitors', { body: {}, apiKey: 'automation-key-1' });
    expect(byKey.status).toBe(200);
    expect(byKey.json.monitors).toHaveLength(1);
    const wrongKey = await call(t.base, '/vantage.v1.MonitorsService/ListMonitors', { body: {}, apiKey: 'nope' });
    expect(wrongKey.status).toBe(401);
  });

  it('without any configured API key, X-API-Key is refused on the web port', async () => {
    t = await startWebServer();
    const a = await call(t.base, '/vantage.v1.MonitorsService/ListMonitors', { body: {}, apiKey: 'anything' });
    expect(a.status).toBe(401);
    const anon = await call(t.base, '/vantage.v1.MonitorsService/ListMonitors', { body: {}, origin: t.origin });
    expect(anon.status).toBe(401);
    expect(anon.json.code).toBe('unauthenticated');
  });
});

describe('roles', () => {
  it('a viewer reads but cannot edit monitors or manage users; an editor edits monitors, not users', async () => {
    t = await startWebServer();
    const admin = await setupAdmin(t);
    await rpc(t, 'UserService/CreateUser', { username: 'vic', password: 'vic-password-1', role: 'viewer' }, admin);
    await rpc(t, 'UserService/CreateUser', { username: 'ed', password: 'ed-password-1', role: 'editor' }, admin);
    const dup = await rpc(t, 'UserService/CreateUser', { username: 'VIC', password: 'vic-password-1', role: 'viewer' }, admin);
    expect(dup.json.code).toBe('already_exists');
    const badRole = await rpc(t, 'UserService/CreateUser', { username: 'x', password: 'x-password-1', role: 'root' }, admin);
    expect(badRole.json).toMatchObject({ code: 'invalid_argument' });
    expect(badRole.json.message).toMatch(/^role: expected one of viewer, editor, admin/);

    const viewer = await login(t, 'vic', 'vic-password-1');
    expect((await rpc(t, 'MonitorsService/ListMonitors', {}, viewer)).status).toBe(200);
    const denied = await rpc(t, 'MonitorsService/CreateMonitor', monitorBody, viewer);
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({ code: 'permission_denied' });
    expect(denied.json.message).toMatch(/editor/);
    expect((await rpc(t, 'UserService/ListUsers', {}, viewer)).json.code).toBe('permission_denied');
    const profile = await rpc(t, 'UserService/GetProfile', {}, viewer);
    expect(profile.json.user).toMatchObject({ username: 'vic', role: 'viewer' });

    const editor = await login(t, 'ed', 'ed-password-1');
    expect((await rpc(t, 'MonitorsService/CreateMonitor', monitorBody, editor)).status).toBe(200);
    expect((await rpc(t, 'UserService/CreateUser', { username: 'z', password: 'z-password-1', role: 'admin' }, editor)).json.code).toBe('permission_denied');
    // A role change applies to the next request of an existing session.
    const list = await rpc(t, 'UserService/ListUsers', {}, admin);
    const ed = (list.json.users as { id: string; username: string }[]).find((u) => u.username === 'ed')!;
    await rpc(t, 'UserService/UpdateUser', { id: ed.id, role: 'viewer' }, admin);
    expect((await rpc(t, 'MonitorsService/CreateMonitor', { monitor: { ...monitorBody.monitor, name: 'two' } }, editor)).json.code).toBe('permission_denied');
  });

  it('the last admin cannot be demoted or removed', async () => {
    t = await startWebServer();
    const admin = await setupAdmin(t);
    const me = await rpc(t, 'UserService/GetProfile', {}, admin);
    const demote = await rpc(t, 'UserService/UpdateUser', { id: me.json.user.id, role: 'viewer' }, admin);
    expect(demote.json.code).toBe('failed_precondition');
    const remove = await rpc(t, 'UserService/DeleteUser', { id: me.json.user.id }, admin);
    expect(remove.json.code).toBe('failed_precondition');
  });

  it('API keys carry a role on the web port and on the main port', async () => {
    t = await startWebServer({ api_keys: ['full-key-1', 'read-key-1:viewer', 'edit-key-1:editor'], monitoring_enabled: true, worker_port: 0, worker_host: '127.0.0.1' });
    const web = (key: string, method: string, body: unknown) => call(t!.base, `/vantage.v1.${method}`, { body, apiKey: key });
    const main = (key: string, method: string, body: unknown) => call(t!.server.url, `/vantage.v1.${method}`, { body, apiKey: key });
    expect((await web('read-key-1', 'MonitorsService/ListMonitors', {})).status).toBe(200);
    expect((await web('read-key-1', 'MonitorsService/CreateMonitor', monitorBody)).json.code).toBe('permission_denied');
    expect((await web('edit-key-1', 'MonitorsService/CreateMonitor', monitorBody)).status).toBe(200);
    expect((await web('edit-key-1', 'UserService/ListUsers', {})).json.code).toBe('permission_denied');
    expect((await web('full-key-1', 'UserService/ListUsers', {})).status).toBe(200);
    expect((await web('read-key-1:viewer', 'MonitorsService/ListMonitors', {})).status).toBe(401);
    expect((await main('read-key-1', 'MonitorsService/CreateMonitor', { monitor: { ...monitorBody.monitor, name: 'm2' } })).json.code).toBe('permission_denied');
    expect((await main('read-key-1', 'MonitorsService/ListMonitors', {})).status).toBe(200);
    expect((await main('full-key-1', 'MonitorsService/CreateMonitor', { monitor: { ...monitorBody.monitor, name: 'm3' } })).status).toBe(200);
    // The management API is read-only for keys below admin.
    expect((await call(t.server.url, '/clients', { apiKey: 'read-key-1' })).status).toBe(200);
    const purge = await call(t.server.url, '/clients/purge', { method: 'POST', apiKey: 'read-key-1' });
    expect(purge.status).toBe(403);
    expect(purge.json.error).toMatch(/viewer role/);
    expect((await call(t.server.url, '/clients/purge', { method: 'POST', apiKey: 'full-key-1' })).status).toBe(200);
    // GetProfile needs a user, not a key.
    expect((await web('full-key-1', 'UserService/GetProfile', {})).json.code).toBe('failed_precondition');
  });
});
