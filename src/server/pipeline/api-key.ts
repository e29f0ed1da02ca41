import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../errors.js';
import type { Stage } from './types.js';

export type KeyCheck = 'missing' | 'wrong' | 'server' | 'api';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Builds the X-API-Key checker for `server_key` and `api_keys`. Keys are compared as SHA-256 digests with
 * timingSafeEqual, against every configured key without an early exit, so timing reveals neither a key's
 * content nor which key matched. Returns null when no key is configured (auth off).
 */
export function createKeyChecker(cfg: { server_key: string; api_keys: readonly string[] }): ((header: string | string[] | undefined) => KeyCheck) | null {
  const keys: { d: Buffer; kind: 'server' | 'api' }[] = [];
  if (cfg.server_key !== '') keys.push({ d: digest(cfg.server_key), kind: 'server' });
  for (const k of cfg.api_keys) if (k !== '') keys.push({ d: digest(k), kind: 'api' });
  if (keys.length === 0) return null;
  return (header) => {
    const value = Array.isArray(header) ? header[0] : header;
    if (value === undefined || value === '') return 'missing';
    const d = digest(value);
    let found: KeyCheck = 'wrong';
    for (const k of keys) {
      if (timingSafeEqual(d, k.d) && found === 'wrong') found = k.kind;
    }
    return found;
  };
}

/** API key stage: 401 when the X-API-Key header is missing, 403 when it matches no configured key. */
export function apiKeyStage(cfg: { server_key: string; api_keys: readonly string[] }): Stage | null {
  const check = createKeyChecker(cfg);
  if (check === null) return null;
  return (ctx, next) => {
    if (!ctx.route.auth) return next();
    const r = check(ctx.req.headers['x-api-key']);
    if (r === 'missing') throw new HttpError(401, 'API key required: send it in the X-API-Key header', { field: 'X-API-Key' });
    if (r === 'wrong') throw new HttpError(403, 'invalid API key', { field: 'X-API-Key' });
    ctx.auth = r;
    return next();
  };
}
