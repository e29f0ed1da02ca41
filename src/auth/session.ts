/**
 * Web sessions as seed 003 describes them: the cookie `vantage_session=<tokenId>.<signature>`, where the
 * signature is HMAC-SHA256 of the token id with session_secret (base64url). The server looks the session up in
 * the users store by the SHA-256 of the token id (a stolen database does not yield cookies), with its expiry,
 * last-seen time and user. Sessions expire session_ttl after sign-in (absolute, not sliding: an idle tab
 * polling the API does not keep a session alive forever). The CSRF token of a session is derived from it
 * (HMAC of "csrf:" + token id), so it needs no storage and changes with every sign-in.
 *
 * Also the principal of a web request (`WebPrincipal`), shared by the web listener and every web service.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Role, UserRecord, UserStore } from '../store/users.js';
import { safeEqual } from './safe-equal.js';

export type { Role } from '../store/users.js';

export const SESSION_COOKIE = 'vantage_session';

/** Who a web request acts as: a signed-in user, or an API key with its role. */
export type WebPrincipal =
  | { kind: 'user'; userId: string; username: string; role: Role }
  | { kind: 'api-key'; role: Role };

/** A session's last-seen time is written at most this often (one write per minute per active session). */
export const TOUCH_EVERY_MS = 60_000;

export interface SessionManagerOptions {
  store: UserStore;
  secret: string;
  ttlMs: number;
  now: () => number;
}

export interface IssuedSession {
  /** The cookie value: tokenId.signature. */
  cookie: string;
  csrfToken: string;
  expiresAt: number;
}

export interface ActiveSession {
  principal: Extract<WebPrincipal, { kind: 'user' }>;
  user: UserRecord;
  idHash: string;
  csrfToken: string;
  expiresAt: number;
}

const hashId = (tokenId: string): string => createHash('sha256').update(tokenId).digest('hex');

export class SessionManager {
  constructor(private readonly opts: SessionManagerOptions) {}

  private sign(tokenId: string): string {
    return createHmac('sha256', this.opts.secret).update(tokenId).digest('base64url');
  }

  private csrf(tokenId: string): string {
    return createHmac('sha256', this.opts.secret).update(`csrf:${tokenId}`).digest('base64url');
  }

  /** Starts a new session for the user (a sign-in always gets a fresh token id: rotation). */
  async issue(userId: string): Promise<IssuedSession> {
    const now = this.opts.now();
    const tokenId = randomBytes(32).toString('base64url');
    const expiresAt = now + this.opts.ttlMs;
    await this.opts.store.createSession({ id_hash: hashId(tokenId), user_id: userId, created_at: now, expires_at: expiresAt, last_seen_at: now });
    return { cookie: `${tokenId}.${this.sign(tokenId)}`, csrfToken: this.csrf(tokenId), expiresAt };
  }

  /** Parses and checks a cookie value: the token id when the signature is right, else null. */
  tokenIdOf(cookie: string): string | null {
    const dot = cookie.indexOf('.');
    if (dot <= 0 || dot === cookie.length - 1 || cookie.length > 200) return null;
    const tokenId = cookie.slice(0, dot);
    return safeEqual(cookie.slice(dot + 1), this.sign(tokenId)) ? tokenId : null;
  }

  /** The live session a cookie value names, or null (bad signature, unknown, expired, user removed). */
  async resolve(cookie: string): Promise<ActiveSession | null> {
    const tokenId = this.tokenIdOf(cookie);
    if (tokenId === null) return null;
    const now = this.opts.now();
    const idHash = hashId(tokenId);
    const found = await this.opts.store.getSession(idHash, now);
    if (found === null) return null;
    if (now - found.session.last_seen_at >= TOUCH_EVERY_MS) await this.opts.store.touchSession(idHash, now);
    const { user } = found;
    return {
      principal: { kind: 'user', userId: user.id, username: user.username, role: user.role },
      user,
      idHash,
      csrfToken: this.csrf(tokenId),
      expiresAt: found.session.expires_at,
    };
  }

  async destroy(idHash: string): Promise<void> {
    await this.opts.store.deleteSession(idHash);
  }
}

/** The value of one cookie in a Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  return readCookies(header, name)[0] ?? null;
}

/**
 * Every value of a cookie in a Cookie header, in the order sent. The same name can come twice: a cookie of the
 * web port (Path=/) and one of the main port's dashboard_path (Path=/ui/) on the same host (cookies ignore ports).
 */
export function readCookies(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * A Cookie header without the session cookie (what the reverse proxy forwards to backends): null when no other
 * cookie is left, the header unchanged when it has no session cookie.
 */
export function withoutSessionCookie(header: string): string | null {
  if (!header.includes(SESSION_COOKIE)) return header;
  const kept = header.split(';').filter((part) => {
    const eq = part.indexOf('=');
    return eq < 0 ? part.trim() !== '' : part.slice(0, eq).trim() !== SESSION_COOKIE;
  });
  if (kept.length === 0) return null;
  return kept.map((p) => p.trim()).join('; ');
}

/**
 * Set-Cookie for a session: HttpOnly, SameSite=Lax, Path (default /; the main port's dashboard uses its
 * dashboard_path so the browser never sends it to proxied paths), Secure over HTTPS, Max-Age until expiry.
 */
export function sessionCookie(value: string, opts: { secure: boolean; maxAgeSeconds: number; path?: string }): string {
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Lax; Path=${opts.path ?? '/'}; Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}${opts.secure ? '; Secure' : ''}`;
}

/** Set-Cookie that clears the session cookie (same Path as it was set with). */
export function clearedSessionCookie(secure: boolean, path = '/'): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=${path}; Max-Age=0${secure ? '; Secure' : ''}`;
}

/** A new random secret (session_secret when none is configured). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}
