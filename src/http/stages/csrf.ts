/**
 * CSRF protection of the web listener, pure: a state-changing request authenticated by the session cookie must
 * come from the listener's own origin (Origin header, else Referer) and carry the session's token in
 * X-CSRF-Token. Sign-in and setup (no session yet) get the origin check only. Requests authenticated by
 * X-API-Key carry no ambient credential and are not checked.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { safeEqual } from '../../auth/safe-equal.js';

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isStateChanging(method: string | undefined): boolean {
  return !SAFE_METHODS.has((method ?? 'GET').toUpperCase());
}

/** The origin a request says it comes from (Origin, else the origin of Referer), or null. */
export function requestOrigin(headers: IncomingHttpHeaders): string | null {
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== '' && origin !== 'null') return origin.toLowerCase();
  if (origin === 'null') return 'null';
  const referer = headers.referer;
  if (typeof referer === 'string' && referer !== '') {
    try {
      return new URL(referer).origin.toLowerCase();
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Why the request fails the CSRF check, or null when it passes. `selfOrigins`: the origins of the listener
 * (scheme://host:port as the browser sees it; the caller derives them from the Host header and its own
 * addresses). `expectedToken` null: check the origin only (sign-in, setup).
 */
export function csrfProblem(headers: IncomingHttpHeaders, selfOrigins: ReadonlySet<string>, expectedToken: string | null): string | null {
  const origin = requestOrigin(headers);
  if (origin === null) return 'csrf: Origin or Referer header required on state-changing requests';
  if (!selfOrigins.has(origin)) return `csrf: cross-site request refused (origin ${origin.slice(0, 100)})`;
  if (expectedToken === null) return null;
  const sent = headers[CSRF_HEADER];
  const token = Array.isArray(sent) ? sent[0] : sent;
  if (token === undefined || token === '') return 'csrf: X-CSRF-Token header required';
  if (!safeEqual(token, expectedToken)) return 'csrf: X-CSRF-Token does not match the session';
  return null;
}
