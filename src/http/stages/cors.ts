import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../errors.js';
import type { SecurityPolicy } from '../policy.js';
import { deferHeaders } from '../response.js';

/**
 * CORS decisions (`enable_cors`, `cors_allowed_origins`), pure: given the request's method and headers, what to
 * answer. The HTTP stage applies the result.
 *
 * - Disabled, or no `Origin` header: nothing to do.
 * - An origin listed exactly (case-insensitive scheme/host) is echoed back with
 *   `Access-Control-Allow-Credentials: true`.
 * - `"*"` in the list allows any other origin, answered with `Access-Control-Allow-Origin: *` and never with
 *   credentials (browsers refuse credentials with a wildcard anyway; Vantage does not echo arbitrary origins).
 * - An empty list allows no origin.
 * - A preflight (`OPTIONS` + `Origin` + `Access-Control-Request-Method`) is answered here: 204 with the allowed
 *   methods and headers, or 403 naming `cors_allowed_origins` when the origin is not allowed.
 */
export interface CorsSettings {
  enabled: boolean;
  allowedOrigins: readonly string[];
}

export interface CorsPolicy {
  readonly enabled: boolean;
  /** Lower-cased exact origins. */
  readonly exact: ReadonlySet<string>;
  readonly any: boolean;
}

export type CorsDecision =
  | { kind: 'none' }
  /** Add these headers to the normal response. */
  | { kind: 'actual'; headers: Record<string, string> }
  /** Answer the preflight now with `status` and these headers. */
  | { kind: 'preflight'; status: 204; headers: Record<string, string> }
  /** Refuse the preflight (origin, method or header not allowed). */
  | { kind: 'reject'; status: 403; error: string; headers: Record<string, string> };

export const CORS_ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD';
const ALLOWED_METHOD_SET = new Set(CORS_ALLOWED_METHODS.split(', '));
const TOKEN_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;
/** How long browsers may cache a preflight answer (seconds). */
export const CORS_MAX_AGE_SECONDS = 600;

export function compileCors(s: CorsSettings): CorsPolicy {
  const exact = new Set<string>();
  let any = false;
  for (const o of s.allowedOrigins) {
    const t = o.trim();
    if (t === '*') any = true;
    else if (t !== '') exact.add(t.replace(/\/+$/, '').toLowerCase());
  }
  return { enabled: s.enabled, exact, any };
}

export interface CorsRequest {
  method: string;
  origin: string | undefined;
  /** `Access-Control-Request-Method`. */
  requestMethod: string | undefined;
  /** `Access-Control-Request-Headers`. */
  requestHeaders: string | undefined;
}

export function corsDecision(policy: CorsPolicy, req: CorsRequest): CorsDecision {
  if (!policy.enabled || req.origin === undefined || req.origin === '') return { kind: 'none' };
  const origin = req.origin;
  const listed = policy.exact.has(origin.toLowerCase());
  const allowed = listed || policy.any;
  const isPreflight = req.method === 'OPTIONS' && req.requestMethod !== undefined;
  const vary = { Vary: 'Origin' };

  const originHeaders: Record<string, string> = listed
    ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', ...vary }
    : { 'Access-Control-Allow-Origin': '*' };

  if (!isPreflight) {
    if (!allowed) return { kind: 'none' };
    return { kind: 'actual', headers: { ...originHeaders, 'Access-Control-Expose-Headers': 'Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, X-Request-Id' } };
  }

  const preflightVary = { Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' };
  if (!allowed) {
    return { kind: 'reject', status: 403, error: `CORS: origin ${JSON.stringify(safeText(origin))} is not in cors_allowed_origins`, headers: preflightVary };
  }
  const method = (req.requestMethod ?? '').trim().toUpperCase();
  if (!ALLOWED_METHOD_SET.has(method)) {
    return { kind: 'reject', status: 403, error: `CORS: method ${JSON.stringify(safeText(method))} is not allowed (allowed: ${CORS_ALLOWED_METHODS})`, headers: preflightVary };
  }
  const headers: Record<string, string> = {
    ...originHeaders,
    ...preflightVary,
    'Access-Control-Allow-Methods': CORS_ALLOWED_METHODS,
    'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
  };
  const reqHeaders = req.requestHeaders?.trim();
  if (reqHeaders) {
    if (!TOKEN_LIST.test(reqHeaders)) {
      return { kind: 'reject', status: 403, error: 'CORS: Access-Control-Request-Headers is not a list of header names', headers: preflightVary };
    }
    headers['Access-Control-Allow-Headers'] = reqHeaders.toLowerCase();
  }
  return { kind: 'preflight', status: 204, headers };
}

/** Printable ASCII only, at most 200 characters: what may be quoted back in an error. */
function safeText(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/**
 * The CORS step of proxied traffic (`enable_cors`): a preflight is answered here (204, or 403 naming
 * `cors_allowed_origins`), with the security headers; an allowed actual request gets its CORS headers set and
 * goes on. Returns true when the request was answered.
 */
export function answerCors(p: Pick<SecurityPolicy, 'cors' | 'headers'>, req: IncomingMessage, res: ServerResponse): boolean {
  const h = req.headers;
  const d = corsDecision(p.cors, {
    method: req.method ?? 'GET',
    origin: h.origin,
    requestMethod: h['access-control-request-method'] as string | undefined,
    requestHeaders: h['access-control-request-headers'] as string | undefined,
  });
  if (d.kind === 'preflight' || d.kind === 'reject') {
    deferHeaders(res, p.headers);
    for (const k in d.headers) res.setHeader(k, d.headers[k]!);
    if (d.kind === 'reject') sendJson(res, 403, { error: d.error });
    else {
      res.writeHead(204, { 'content-length': '0' });
      res.end();
    }
    return true;
  }
  if (d.kind === 'actual') for (const k in d.headers) res.setHeader(k, d.headers[k]!);
  return false;
}
