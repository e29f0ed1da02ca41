/**
 * The API-key checker: `X-API-Key` against `server_key` and `api_keys`, in constant time. It serves the
 * management pipeline (http/stages/authenticate.ts, which runs for the web API's requests too) and the web API
 * handler when it is used on its own. With no key configured the API is open (the seed's behaviour for an empty
 * server_key).
 */
import { createHash } from 'node:crypto';
import { HttpError } from '../http/errors.js';
import { OPEN, type Principal } from './principal.js';
import { secretMatcher } from './safe-equal.js';
import { isRole, type Role } from '../store/users.js';

/** A request authenticated by an API key: `server_key` (an agent) or one of `api_keys`. */
export interface ApiKeyPrincipal {
  readonly kind: 'api-key';
  readonly key: 'server' | 'api';
  /** The key's web role: `server_key` and plain `api_keys` entries are admin; "key:viewer" / "key:editor" less. */
  readonly role: Role;
}

declare module './principal.js' {
  interface PrincipalKinds {
    'api-key': ApiKeyPrincipal;
  }
}

/** 'api' is a full-access api_keys entry; 'api:viewer' / 'api:editor' one with that role. */
export type KeyCheck = 'missing' | 'wrong' | 'server' | 'api' | 'api:viewer' | 'api:editor';

/**
 * An api_keys entry: "key" (full access, as before roles existed), or "key:viewer", "key:editor",
 * "key:admin" for a key with that web role. A key that itself ends in one of those suffixes must be written
 * with ":admin" appended.
 */
export function parseApiKeyEntry(entry: string): { secret: string; role: Role } {
  const colon = entry.lastIndexOf(':');
  if (colon > 0) {
    const role = entry.slice(colon + 1);
    if (isRole(role)) return { secret: entry.slice(0, colon), role };
  }
  return { secret: entry, role: 'admin' };
}

/**
 * Checks an X-API-Key header value. With `connection` (the request's socket), the verdict for the last value
 * that connection sent is remembered: a keep-alive client sends the same key with every request, and hashing
 * it again each time cost more than routing the request. The remembered value is compared only with what the
 * same connection sends next, so it tells a client nothing about the configured keys or other clients' keys.
 */
export type KeyChecker = (header: string | string[] | undefined, connection?: object) => KeyCheck;

export interface ApiKeys {
  server_key: string;
  api_keys: readonly string[];
}

/**
 * Builds the X-API-Key checker for `server_key` and `api_keys` (compared with every configured key, see
 * safe-equal.ts). Returns null when no key is configured (auth off). `hooks.onVerify` runs each time a value is
 * actually hashed and compared (not for a remembered verdict).
 */
export function createKeyChecker(cfg: ApiKeys, hooks: { onVerify?: () => void } = {}): KeyChecker | null {
  const keys: { secret: string; label: Exclude<KeyCheck, 'missing' | 'wrong'> }[] = [];
  if (cfg.server_key !== '') keys.push({ secret: cfg.server_key, label: 'server' });
  for (const k of cfg.api_keys) {
    if (k === '') continue;
    const { secret, role } = parseApiKeyEntry(k);
    if (secret !== '') keys.push({ secret, label: role === 'admin' ? 'api' : `api:${role}` });
  }
  if (keys.length === 0) return null;
  const match = secretMatcher(keys);
  const verify = (header: string | string[] | undefined): KeyCheck => {
    const value = Array.isArray(header) ? header[0] : header;
    if (value === undefined || value === '') return 'missing';
    hooks.onVerify?.();
    return match(value) ?? 'wrong';
  };
  // Per connection; a reload builds a new checker, so nothing remembered outlives the keys it was checked with.
  const last = new WeakMap<object, { value: string; result: KeyCheck }>();
  return (header, connection) => {
    if (connection === undefined || typeof header !== 'string') return verify(header);
    const m = last.get(connection);
    if (m !== undefined && m.value === header) return m.result;
    const result = verify(header);
    if (m !== undefined) {
      m.value = header;
      m.result = result;
    } else {
      last.set(connection, { value: header, result });
    }
    return result;
  };
}

const SERVER_KEY: ApiKeyPrincipal = Object.freeze({ kind: 'api-key', key: 'server', role: 'admin' });
const API_KEY: ApiKeyPrincipal = Object.freeze({ kind: 'api-key', key: 'api', role: 'admin' });
const EDITOR_KEY: ApiKeyPrincipal = Object.freeze({ kind: 'api-key', key: 'api', role: 'editor' });
const VIEWER_KEY: ApiKeyPrincipal = Object.freeze({ kind: 'api-key', key: 'api', role: 'viewer' });

/**
 * Authenticates a request by its X-API-Key header: its principal, or why not. `check` null (no key configured)
 * lets everyone in as OPEN.
 */
export function authenticateApiKey(check: KeyChecker | null, header: string | string[] | undefined, connection?: object): Principal | 'missing' | 'wrong' {
  if (check === null) return OPEN;
  const r = check(header, connection);
  if (r === 'server') return SERVER_KEY;
  if (r === 'api') return API_KEY;
  if (r === 'api:editor') return EDITOR_KEY;
  if (r === 'api:viewer') return VIEWER_KEY;
  return r;
}

/** The management API's answer to a refused key: 401 when the header is missing, 403 when it matches no key. */
export function apiKeyRefusal(why: 'missing' | 'wrong'): HttpError {
  return why === 'missing'
    ? new HttpError(401, 'API key required: send it in the X-API-Key header', { field: 'X-API-Key' })
    : new HttpError(403, 'invalid API key', { field: 'X-API-Key' });
}

/** A stable, non-secret name for a key in the audit log: "api-key:" + the first 12 hex chars of its SHA-256. */
export function actorFor(key: string): string {
  return `api-key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/**
 * The audit-log actor of an authenticated request: the presented key's name (also when no key is configured
 * but the client sent one), else "anonymous".
 */
export function actorOf(header: string | string[] | undefined): string {
  const presented = Array.isArray(header) ? header[0] : header;
  return presented ? actorFor(presented) : 'anonymous';
}
