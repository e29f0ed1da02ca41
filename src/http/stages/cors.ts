import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../errors.js';
import type { LiveSecurity } from '../live-security.js';
import type { Stage } from '../pipeline.js';
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
 *   methods and headers, or 403 naming `cors_allowed_origins` when the origin is not allowed. The allowed
 *   headers are always the ones Vantage reads (`allowHeaders`: X-API-Key, Content-Type, the configured sticky
 *   and tier headers), plus whatever else the preflight asks for (a proxied backend may read any header).
 */
export interface CorsSettings {
  enabled: boolean;
  allowedOrigins: readonly string[];
  /** Header names every preflight answer allows (empty names are skipped). */
  allowHeaders?: readonly string[];
}

export interface CorsPolicy {
  readonly enabled: boolean;
  /** Lower-cased exact origins. */
  readonly exact: ReadonlySet<string>;
  readonly any: boolean;
  /** Header names every preflight answer allows, as configured (de-duplicated case-insensitively). */
  readonly allowHeaders: readonly string[];
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
  const allowHeaders: string[] = [];
  for (const h of s.allowHeaders ?? []) {
    if (h !== '' && !allowHeaders.some((a) => a.toLowerCase() === h.toLowerCase())) allowHeaders.push(h);
  }
  return { enabled: s.enabled, exact, any, allowHeaders };
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
  const allow = [...policy.allowHeaders];
  const reqHeaders = req.requestHeaders?.trim();
  if (reqHeaders) {
    if (!TOKEN_LIST.test(reqHeaders)) {
      return { kind: 'reject', status: 403, error: 'CORS: Access-Control-Request-Headers is not a list of header names', headers: preflightVary };
    }
    const known = new Set(allow.map((a) => a.toLowerCase()));
    for (const name of reqHeaders.toLowerCase().split(',')) {
      const n = name.trim();
      if (!known.has(n)) {
        known.add(n);
        allow.push(n);
      }
    }
  }
  if (allow.length > 0) headers['Access-Control-Allow-Headers'] = allow.join(', ');
  return { kind: 'preflight', status: 204, headers };
}

/** Printable ASCII only, at most 200 characters: what may be quoted back in an error. */
function safeText(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

function decide(cors: CorsPolicy, req: IncomingMessage): CorsDecision {
  const h = req.headers;
  return corsDecision(cors, {
    method: req.method ?? 'GET',
    origin: h.origin,
    requestMethod: h['access-control-request-method'] as string | undefined,
    requestHeaders: h['access-control-request-headers'] as string | undefined,
  });
}

/** Applies a decision: answers a preflight (returns true), or sets the CORS headers of an actual request. */
function apply(d: CorsDecision, res: ServerResponse): boolean {
  if (d.kind === 'preflight' || d.kind === 'reject') {
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

/**
 * The CORS step of proxied traffic (`enable_cors`): a preflight is answered here (204, or 403 naming
 * `cors_allowed_origins`), with the security headers; an allowed actual request gets its CORS headers set and
 * goes on. Returns true when the request was answered.
 */
export function answerCors(p: Pick<SecurityPolicy, 'cors' | 'headers'>, req: IncomingMessage, res: ServerResponse): boolean {
  const d = decide(p.cors, req);
  if (d.kind === 'preflight' || d.kind === 'reject') deferHeaders(res, p.headers);
  return apply(d, res);
}

/**
 * The CORS stage of the management pipeline (`enable_cors`; after the security-headers stage, which already
 * deferred those): a preflight is answered here, before the method check (405) and authentication; an allowed
 * actual request gets its CORS headers, so a browser app can also read an error answer (401, 429, 503).
 */
export function corsStage(live: Pick<LiveSecurity, 'policy'>): Stage {
  return (ctx, next) => {
    const cors = live.policy().cors;
    if (cors.enabled && apply(decide(cors, ctx.req), ctx.res)) return;
    return next();
  };
}
