import type { IncomingMessage } from 'node:http';
import { TIER_NAME_RE } from '../../config/tiers.js';
import { HttpError } from '../errors.js';
import { normalizeRequestPath, splitTarget } from '../path.js';
import type { Stage } from '../pipeline.js';

/**
 * Media types accepted for JSON bodies. Besides application/json (and any `+json` type), a missing type and
 * `application/x-www-form-urlencoded` / `text/plain` are accepted when the body parses as JSON, so that
 * `curl -d '{"tier":"small"}'` (which labels its body form-urlencoded) works as documented. Any other type
 * (text/xml, multipart/form-data, …) is refused.
 */
function mediaType(header: string | undefined): string {
  if (header === undefined) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

const LENIENT = new Set(['', 'application/x-www-form-urlencoded', 'text/plain']);

const PLAIN_JSON = Object.freeze({ ok: true, strict: true, type: 'application/json' });

export function isAcceptedJsonType(header: string | undefined): { ok: boolean; strict: boolean; type: string } {
  if (header === 'application/json') return PLAIN_JSON; // the common case, without parsing
  const type = mediaType(header);
  if (type === 'application/json' || type.endsWith('+json')) return { ok: true, strict: true, type };
  return { ok: LENIENT.has(type), strict: false, type };
}

/** Parses a JSON body into ctx.json, or throws the 400 that says what is wrong. */
export function parseJsonBody(body: Buffer, contentType: string | undefined): unknown {
  const ct = isAcceptedJsonType(contentType);
  if (!ct.ok) {
    throw new HttpError(400, `unsupported Content-Type "${ct.type}": send application/json`, { field: 'content-type' });
  }
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const hint = ct.strict ? '' : ` (Content-Type "${ct.type || 'none'}" was accepted only because the body is expected to be JSON)`;
    throw new HttpError(400, `malformed JSON body: ${why}${hint}`, { field: 'body' });
  }
}

/**
 * Input validation: wrong method → 405 with Allow; JSON routes get their body checked for Content-Type and
 * parsed. Field-level validation is each handler's zod schema.
 */
export function validateInput(): Stage {
  return (ctx, next) => {
    if (ctx.handler === undefined) {
      const allow = Object.keys(ctx.route.methods).join(', ');
      throw new HttpError(405, `method ${ctx.method} not allowed on ${ctx.route.name}; use ${allow}`, {
        headers: { allow },
      });
    }
    if (ctx.route.body === 'json' && ctx.body !== null) {
      ctx.json = parseJsonBody(ctx.body, ctx.req.headers['content-type']);
    }
    return next();
  };
}

/**
 * Input validation of proxied requests and upgrades: tier names from the tier header (`tier_header`) and
 * `?tier=`, then the request path (an absolute-form target is checked by its path, as the proxy reduces it to
 * that). Returns the 400 refusal, or null when the request may pass.
 */
export function proxiedInputRefusal(req: IncomingMessage, tierHeader: string): HttpError | null {
  const { path, query } = splitTarget(req.url ?? '/');
  const tierProblem = checkTierInputs(req, query, tierHeader);
  if (tierProblem !== null) return new HttpError(400, tierProblem, { field: 'tier' });
  const target = path.startsWith('/') ? path : pathOfAbsolute(path);
  const v = normalizeRequestPath(target);
  if (!v.ok) return new HttpError(400, v.message, { field: 'path' });
  return null;
}

/**
 * Tier names from the tier header and `?tier=` must look like tier names (letters, digits, ".", "_", "-";
 * 1–64 characters), so nothing else travels into logs, metrics labels or error messages. An empty value means
 * "the default tier" and passes.
 */
function checkTierInputs(req: IncomingMessage, query: string, tierHeader: string): string | null {
  if (tierHeader !== '') {
    const h = req.headers[tierHeader];
    const v = Array.isArray(h) ? h[0] : h;
    if (v !== undefined && v !== '' && !TIER_NAME_RE.test(v)) return `invalid tier name in the ${tierHeader} header (tier_header): expected 1–64 letters, digits, ".", "_" or "-"`;
  }
  if (query.includes('tier=')) {
    const v = new URLSearchParams(query.slice(1)).get('tier');
    if (v !== null && v !== '' && !TIER_NAME_RE.test(v)) return 'invalid tier name in ?tier=: expected 1–64 letters, digits, ".", "_" or "-"';
  }
  return null;
}

function pathOfAbsolute(target: string): string {
  const scheme = target.indexOf('://');
  if (scheme <= 0) return target;
  const slash = target.indexOf('/', scheme + 3);
  return slash === -1 ? '/' : target.slice(slash);
}
