/**
 * The web listener's auth endpoints (JSON): GET /api/auth/session, POST /api/auth/login, /api/auth/logout and
 * /api/auth/setup (docs/web.md#auth-endpoints). Sign-in and setup check the Origin only (there is no session to
 * hold a CSRF token yet); logout with a session needs the CSRF token like every other state-changing request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { clearedSessionCookie, sessionCookie, type ActiveSession, type IssuedSession, type SessionManager } from '../../auth/session.js';
import { decoyHash, hashPassword, passwordProblem, usernameProblem, verifyPassword } from '../../auth/password.js';
import { hashSetupToken } from '../../auth/setup-token.js';
import type { LoginThrottle } from '../../auth/login-throttle.js';
import type { UserRecord, UserStore } from '../../store/users.js';
import { csrfProblem } from '../../http/stages/csrf.js';
import { randomId } from '../../platform/ids.js';
import { BodyError, readJsonBody, selfOrigins, sendJson } from './web-request.js';

const LoginBody = z.object({
  username: z.string({ error: 'expected a string' }).min(1, { error: 'required' }).max(64, { error: 'expected at most 64 characters' }),
  password: z.string({ error: 'expected a string' }).min(1, { error: 'required' }).max(256, { error: 'expected at most 256 characters' }),
});
const SetupBody = z.object({
  token: z.string({ error: 'expected a string' }).min(1, { error: 'required' }).max(200, { error: 'expected at most 200 characters' }),
  username: z.string({ error: 'expected a string' }).transform((s) => s.trim()),
  password: z.string({ error: 'expected a string' }),
});

export interface AuthRoutesDeps {
  users: UserStore;
  sessions: SessionManager;
  throttle: LoginThrottle;
  https: boolean;
  /** Path of the session cookie: / on the web port, dashboard_path on the main port. */
  cookiePath: string;
  clientIp: (req: IncomingMessage) => string;
  now: () => number;
}

export const AUTH_PREFIX = '/api/auth/';

function sessionBody(user: Pick<UserRecord, 'id' | 'username' | 'role'>, csrfToken: string) {
  return { user: { id: user.id, username: user.username, role: user.role }, csrfToken };
}

/** Handles /api/auth/*; `session` is the request's live session (null when none). */
export async function handleAuth(deps: AuthRoutesDeps, req: IncomingMessage, res: ServerResponse, path: string, session: ActiveSession | null): Promise<void> {
  const name = path.slice(AUTH_PREFIX.length);
  const method = req.method ?? 'GET';
  const expect = (m: string): boolean => {
    if (method === m) return true;
    sendJson(res, 405, { error: `${path}: use ${m}` }, { allow: m });
    return false;
  };
  try {
    switch (name) {
      case 'session':
        if (!expect('GET')) return;
        if (session) return sendJson(res, 200, sessionBody(session.user, session.csrfToken));
        return sendJson(res, 401, { error: 'not signed in', setupRequired: (await deps.users.countUsers()) === 0 });
      case 'login':
        if (!expect('POST')) return;
        return await login(deps, req, res, session);
      case 'logout':
        if (!expect('POST')) return;
        return await logout(deps, req, res, session);
      case 'setup':
        if (!expect('POST')) return;
        return await setup(deps, req, res, session);
      default:
        return sendJson(res, 404, { error: `not found: ${path}` });
    }
  } catch (err) {
    if (err instanceof BodyError) return sendJson(res, err.status, { error: err.message });
    throw err;
  }
}

function originRefused(deps: AuthRoutesDeps, req: IncomingMessage, res: ServerResponse): boolean {
  const problem = csrfProblem(req.headers, selfOrigins(req, deps.https), null);
  if (problem === null) return false;
  sendJson(res, 403, { error: problem });
  return true;
}

async function startSession(deps: AuthRoutesDeps, res: ServerResponse, user: UserRecord, previous: ActiveSession | null): Promise<void> {
  // Rotation: a sign-in never keeps the session id the browser came with.
  if (previous) await deps.sessions.destroy(previous.idHash);
  const issued: IssuedSession = await deps.sessions.issue(user.id);
  const maxAge = (issued.expiresAt - deps.now()) / 1000;
  sendJson(res, 200, sessionBody(user, issued.csrfToken), { 'set-cookie': sessionCookie(issued.cookie, { secure: deps.https, maxAgeSeconds: maxAge, path: deps.cookiePath }) });
}

async function login(deps: AuthRoutesDeps, req: IncomingMessage, res: ServerResponse, session: ActiveSession | null): Promise<void> {
  if (originRefused(deps, req, res)) return;
  const body = await readJsonBody(req, LoginBody);
  const ip = deps.clientIp(req);
  const verdict = deps.throttle.check(body.username, ip);
  if (!verdict.ok) {
    const who = verdict.scope === 'user' ? 'this username' : 'your address';
    sendJson(
      res,
      429,
      { error: `too many failed sign-ins for ${who}; try again in ${verdict.retryAfterSeconds} s`, retryAfterSeconds: verdict.retryAfterSeconds },
      { 'retry-after': String(verdict.retryAfterSeconds) },
    );
    return;
  }
  const user = await deps.users.getUserByUsername(body.username);
  // An unknown username costs the same scrypt as a wrong password, so timing does not reveal which usernames exist.
  const ok = await verifyPassword(body.password, user?.password_hash ?? (await decoyHash()));
  if (!user || !ok) {
    deps.throttle.fail(body.username, ip);
    sendJson(res, 401, { error: 'wrong username or password' });
    return;
  }
  deps.throttle.succeed(body.username);
  await startSession(deps, res, user, session);
}

async function logout(deps: AuthRoutesDeps, req: IncomingMessage, res: ServerResponse, session: ActiveSession | null): Promise<void> {
  if (session) {
    const problem = csrfProblem(req.headers, selfOrigins(req, deps.https), session.csrfToken);
    if (problem !== null) return sendJson(res, 403, { error: problem });
    await deps.sessions.destroy(session.idHash);
  }
  res.writeHead(204, { 'set-cookie': clearedSessionCookie(deps.https, deps.cookiePath), 'cache-control': 'no-store' });
  res.end();
}

async function setup(deps: AuthRoutesDeps, req: IncomingMessage, res: ServerResponse, session: ActiveSession | null): Promise<void> {
  if (originRefused(deps, req, res)) return;
  const body = await readJsonBody(req, SetupBody);
  const problem = usernameProblem('username', body.username) ?? passwordProblem('password', body.password);
  if (problem) return sendJson(res, 400, { error: problem });
  const admin = { id: randomId('usr_'), username: body.username, role: 'admin' as const, password_hash: await hashPassword(body.password) };
  const created = await deps.users.consumeSetupToken(hashSetupToken(body.token), admin, deps.now());
  if (created === 'invalid') return sendJson(res, 410, { error: 'this setup link was used already or has expired; restart the server for a new one while no user exists, or use `vantage user add`' });
  await startSession(deps, res, created, session);
}
