/**
 * Path-based endpoint selection (DESIGN.md, /register `endpoints`).
 *
 * A backend may list rules `{url, paths: [pattern…]}`. For a request path:
 * - a pattern without `*` or `?` matches *exactly* when it equals the path, and as a *prefix* when
 *   the path starts with it at a segment boundary (`/api` matches `/api/x`, not `/apix`; a pattern
 *   ending in `/` matches anything below it);
 * - a pattern with `*` (any run of characters, `/` included) or `?` (one character) is a
 *   *wildcard* pattern matched against the whole path.
 * Exact beats prefix beats wildcard; within a kind the longer pattern wins; on a full tie the
 * earlier rule wins. No match (or no path) falls back to the backend's `endpoint`.
 * The query string (from the first `?` in the path) and fragment are ignored.
 */
import type { EndpointRule } from './types.js';

const KIND_WILDCARD = 1;
const KIND_PREFIX = 2;
const KIND_EXACT = 3;

interface CompiledPattern {
  readonly pattern: string;
  readonly url: string;
  readonly re: RegExp | null;
}

export interface CompiledRules {
  readonly patterns: readonly CompiledPattern[];
}

const cache = new WeakMap<readonly EndpointRule[], CompiledRules>();

function globToRegExp(glob: string): RegExp {
  let src = '^';
  for (const ch of glob) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(src + '$', 's');
}

export function compileRules(rules: readonly EndpointRule[]): CompiledRules {
  const patterns: CompiledPattern[] = [];
  for (const rule of rules) {
    for (const p of rule.paths) {
      if (p.length === 0) continue;
      const wild = p.includes('*') || p.includes('?');
      patterns.push({ pattern: p, url: rule.url, re: wild ? globToRegExp(p) : null });
    }
  }
  return { patterns };
}

function stripQuery(path: string): string {
  let end = path.length;
  const q = path.indexOf('?');
  if (q >= 0) end = q;
  const h = path.indexOf('#');
  if (h >= 0 && h < end) end = h;
  return end === path.length ? path : path.slice(0, end);
}

/** Selection over precompiled rules; `fallback` when nothing matches. */
export function selectCompiled(rules: CompiledRules | null, fallback: string, path: string | null | undefined): string {
  if (rules === null || rules.patterns.length === 0 || path === null || path === undefined || path === '') return fallback;
  const p = stripQuery(path);
  let bestKind = 0;
  let bestLen = -1;
  let bestUrl = fallback;
  for (const c of rules.patterns) {
    let kind = 0;
    if (c.re === null) {
      if (p === c.pattern) kind = KIND_EXACT;
      else if (
        p.startsWith(c.pattern) &&
        (c.pattern.endsWith('/') || p.charCodeAt(c.pattern.length) === 47 /* '/' */)
      )
        kind = KIND_PREFIX;
    } else if (c.re.test(p)) {
      kind = KIND_WILDCARD;
    }
    if (kind === 0) continue;
    if (kind > bestKind || (kind === bestKind && c.pattern.length > bestLen)) {
      bestKind = kind;
      bestLen = c.pattern.length;
      bestUrl = c.url;
    }
  }
  return bestUrl;
}

/** The endpoint URL for `path` on `backend` (see the module comment for the rules). */
export function selectEndpoint(
  backend: { endpoint: string; endpoints?: readonly EndpointRule[] | null },
  path: string | null | undefined,
): string {
  const rules = backend.endpoints;
  if (!rules || rules.length === 0) return backend.endpoint;
  let compiled = cache.get(rules);
  if (compiled === undefined) {
    compiled = compileRules(rules);
    cache.set(rules, compiled);
  }
  return selectCompiled(compiled, backend.endpoint, path);
}
