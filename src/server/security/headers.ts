/**
 * The security headers added to every response (management API, /health and proxied traffic) unless
 * `disable_security_headers` is true. Computed once per configuration; applying them is a few setHeader calls.
 *
 * - `X-Content-Type-Options: nosniff`
 * - `X-Frame-Options: DENY`
 * - `Referrer-Policy: no-referrer`
 * - `X-XSS-Protection: 0` — the seed lists this header; the XSS auditor it controlled is gone from browsers and
 *   could itself be abused, so the only safe value today is 0 (disabled), as OWASP recommends.
 * - `Strict-Transport-Security: max-age=31536000; includeSubDomains` — on HTTPS only (browsers ignore it on
 *   plain HTTP, and sending it there would wrongly suggest the server is reachable over TLS).
 */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

const BASE: HeaderList = Object.freeze([
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
  ['X-XSS-Protection', '0'],
] as const);

const WITH_HSTS: HeaderList = Object.freeze([...BASE, ['Strict-Transport-Security', HSTS_VALUE] as const]);
const NONE: HeaderList = Object.freeze([]);

export function securityHeaders(opts: { disabled: boolean; https: boolean }): HeaderList {
  if (opts.disabled) return NONE;
  return opts.https ? WITH_HSTS : BASE;
}

/** The same headers as one flat `[name, value, …]` list (what `deferHeaders` and `writeHead` take). */
export function flatHeaderList(headers: HeaderList): readonly string[] {
  return Object.freeze(headers.flatMap(([n, v]) => [n, v]));
}

/** Sets the headers on a response unless the handler (or a proxied backend) already set them. */
export function applyHeaders(res: { hasHeader(name: string): boolean; setHeader(name: string, value: string): unknown }, headers: HeaderList): void {
  for (const [name, value] of headers) {
    if (!res.hasHeader(name)) res.setHeader(name, value);
  }
}
