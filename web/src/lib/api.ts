/**
 * Every call the dashboard makes: the auth endpoints (JSON) and Connect services (JSON over POST, same origin).
 * Cookie-authenticated state changes carry the session's CSRF token in `X-CSRF-Token`. Paths are under the
 * dashboard's mount (lib/base.ts): /api/… on the web port, <dashboard_path>api/… on the main port.
 */
import { underBase } from './base.js';

export type Role = 'admin' | 'editor' | 'viewer';
export interface SessionUser {
  id: string;
  username: string;
  role: Role;
}
export interface Session {
  user: SessionUser;
  csrfToken: string;
}

/** An answer that is not 2xx: the server's message, plus the HTTP status and (Connect) code. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string = '',
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

let csrfToken = '';
/** Remembers the token of the current session (from GET /api/auth/session, login or setup). */
export function setCsrfToken(t: string): void {
  csrfToken = t;
}

async function readJson(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (text === '') return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { error: text };
  }
}

async function authCall(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(underBase(path), {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await readJson(res);
  if (!res.ok) throw new ApiError(String(json.error ?? res.statusText), res.status, '', json);
  return json;
}

/** The signed-in user, or the 401 body ({setupRequired}) as an ApiError. */
export async function getSession(): Promise<Session> {
  const s = (await authCall('GET', '/api/auth/session')) as unknown as Session;
  setCsrfToken(s.csrfToken);
  return s;
}
export async function login(username: string, password: string): Promise<Session> {
  const s = (await authCall('POST', '/api/auth/login', { username, password })) as unknown as Session;
  setCsrfToken(s.csrfToken);
  return s;
}
export async function setup(token: string, username: string, password: string): Promise<Session> {
  const s = (await authCall('POST', '/api/auth/setup', { token, username, password })) as unknown as Session;
  setCsrfToken(s.csrfToken);
  return s;
}
export async function logout(): Promise<void> {
  await authCall('POST', '/api/auth/logout', {});
  setCsrfToken('');
}

/** One Connect unary call in the JSON codec: POST /vantage.v1.<Service>/<Method>. */
export async function rpc<T>(service: string, method: string, req: object = {}): Promise<T> {
  const res = await fetch(underBase(`/vantage.v1.${service}/${method}`), {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    body: JSON.stringify(req),
  });
  const json = await readJson(res);
  if (!res.ok) {
    const msg = String(json.message ?? json.error ?? res.statusText);
    throw new ApiError(msg, res.status, String(json.code ?? ''), json);
  }
  return json as T;
}

/** proto3 JSON writes int64 as a string; the dashboard reads them as numbers (ms timestamps, counts). */
export const num = (v: string | number | undefined | null): number => (v === undefined || v === null || v === '' ? 0 : Number(v));
