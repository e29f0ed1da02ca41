/**
 * API-key check for the management API: `X-API-Key` against `server_key` and `api_keys`, in constant time.
 * With no key configured the API is open (the seed's behaviour for an empty server_key).
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { safeEqual } from './worker-token.js';

export type ApiKeyCheck = { ok: true; actor: string } | { ok: false; reason: 'missing' | 'wrong' };

export function checkApiKey(headers: IncomingHttpHeaders, cfg: { server_key: string; api_keys: readonly string[] }): ApiKeyCheck {
  const keys = [cfg.server_key, ...cfg.api_keys].filter((k) => k !== '');
  if (keys.length === 0) return { ok: true, actor: 'anonymous' };
  const raw = headers['x-api-key'];
  const presented = Array.isArray(raw) ? raw[0] : raw;
  if (!presented) return { ok: false, reason: 'missing' };
  let match = -1;
  // Compare against every key (no early exit), so timing does not reveal which key matched.
  keys.forEach((k, i) => {
    if (safeEqual(presented, k) && match < 0) match = i;
  });
  if (match < 0) return { ok: false, reason: 'wrong' };
  return { ok: true, actor: actorFor(keys[match]!) };
}

/** A stable, non-secret name for a key in the audit log: "api-key:" + the first 12 hex chars of its SHA-256. */
export function actorFor(key: string): string {
  return `api-key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}
