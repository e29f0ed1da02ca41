/**
 * The security headers added to every response (management API, /health and proxied traffic) unless
 * `disable_security_headers` is true. Computed once per configuration and handed to `deferHeaders` (response.ts)
 * on every response.
 *
 * - `X-Content-Type-Options: nosniff`
 * - `X-Frame-Options: DENY`
 * - `Referrer-Policy: no-referrer`
 * - `X-XSS-Protection: 0` — the seed lists this header; the XSS auditor it controlled is gone from browsers and
 *   could itself be abused, so the only safe value today is 0 (disabled), as OWASP recommends.
 * - `Strict-Transport-Security: max-age=31536000; includeSubDomains` — on HTTPS only (browsers ignore it on
 *   plain HTTP, and sending it there would wrongly suggest the server is reachable over TLS).
 */
import type { FlatHeaders } from './response.js';

export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

const BASE: FlatHeaders = Object.freeze(['X-Content-Type-Options', 'nosniff', 'X-Frame-Options', 'DENY', 'Referrer-Policy', 'no-referrer', 'X-XSS-Protection', '0']);
const WITH_HSTS: FlatHeaders = Object.freeze([...BASE, 'Strict-Transport-Security', HSTS_VALUE]);
const NONE: FlatHeaders = Object.freeze([]);

/** The headers as one frozen flat [name, value, …] list, for `deferHeaders`. */
export function securityHeaders(opts: { disabled: boolean; https: boolean }): FlatHeaders {
  if (opts.disabled) return NONE;
  return opts.https ? WITH_HSTS : BASE;
}
