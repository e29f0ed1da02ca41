import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http/errors.js';
import type { Stage } from '../http/pipeline.js';

export type KeyCheck = 'missing' | 'wrong' | 'server' | 'api';

/**
 * Checks an X-API-Key header value. With `connection` (the request's socket), the verdict for the last value
 * that connection sent is remembered: a keep-alive client sends the same key with every request, and hashing
 * it again each time cost more than routing the request. The remembered value is compared only with what the
 * same connection sends next, so it tells a client nothing about the configured keys or other clients' keys.
 */
export type KeyChecker = (header: string | string[] | undefined, connection?: object) => KeyCheck;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Builds the X-API-Key checker for `server_key` and `api_keys`. Keys are compared as SHA-256 digests with
 * timingSafeEqual, against every configured key without an early exit, so timing reveals neither a key's
 * content nor which key matched. Returns null when no key is configured (auth off).
 */
export function createKeyChecker(cfg: { server_key: string; api_keys: readonly string[] }, hooks: { onVerify?: () => void } = {}): KeyChecker | null {
  const keys: { d: Buffer; kind: 'server' | 'api' }[] = [];
  if (cfg.server_key !== '') keys.push({ d: digest(cfg.server_key), kind: 'server' });
  for (const k of cfg.api_keys) if (k !== '') keys.push({ d: digest(k), kind: 'api' });
  if (keys.length === 0) return null;
  const verify = (header: string | string[] | undefined): KeyCheck => {
    const value = Array.isArray(header) ? header[0] : header;
    if (value === undefined || value === '') return 'missing';
    hooks.onVerify?.();
    const d = digest(value);
    let found: KeyCheck = 'wrong';
    for (const k of keys) {
      if (timingSafeEqual(d, k.d) && found === 'wrong') found = k.kind;
    }
    return found;
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

/** API key stage: 401 when the X-API-Key header is missing, 403 when it matches no configured key. */
export function apiKeyStage(cfg: { server_key: string; api_keys: readonly string[] }): Stage | null {
  const check = createKeyChecker(cfg);
  if (check === null) return null;
  return (ctx, next) => {
    if (!ctx.route.auth) return next();
    const r = check(ctx.req.headers['x-api-key'], ctx.req.socket);
    if (r === 'missing') throw new HttpError(401, 'API key required: send it in the X-API-Key header', { field: 'X-API-Key' });
    if (r === 'wrong') throw new HttpError(403, 'invalid API key', { field: 'X-API-Key' });
    ctx.auth = r;
    return next();
  };
}
