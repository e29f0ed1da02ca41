/**
 * Path normalisation for proxied requests, done before prefix matching so that `..` and its encoded spellings
 * never escape a `proxy_endpoints` prefix.
 *
 * `normalizeRequestPath(rawPath)` decodes percent-escapes repeatedly (so double-encoding such as `%252e%252e`
 * is seen through; at most 4 rounds), turns backslashes into slashes, collapses repeated slashes and looks for
 * dot segments. The verdict:
 * - `traversal` when any `.` or `..` segment appears after decoding (`/api/../admin`, `/api/%2e%2e/x`,
 *   `/api/..%2fx`, `/api/%252e%252e/x`, `/api\..\x`): such a path is refused with 400 and never forwarded;
 * - `invalid` for a NUL or other control character (encoded or not), or a path not starting with `/`;
 * - otherwise `ok` with the decoded, slash-collapsed path used for prefix matching. The request is then
 *   forwarded with its original path and query unchanged, which is safe because nothing in it can climb out of
 *   the matched prefix.
 */
export type PathVerdict =
  | { ok: true; path: string }
  | { ok: false; reason: 'traversal' | 'invalid'; message: string };

const MAX_DECODE_ROUNDS = 4;

/** Decodes every well-formed `%XX` (as UTF-8 bytes, invalid sequences → U+FFFD); leaves malformed `%` as is. */
export function decodeOnce(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
      continue;
    }
    flush();
    out += s[i];
  }
  flush();
  return out;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** `rawPath` is the request target's path, without the query (use `splitTarget`). */
export function normalizeRequestPath(rawPath: string): PathVerdict {
  if (!rawPath.startsWith('/')) return { ok: false, reason: 'invalid', message: 'request path must start with "/"' };
  let p = rawPath;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const next = decodeOnce(p);
    if (next === p) break;
    p = next;
  }
  if (CONTROL.test(p)) return { ok: false, reason: 'invalid', message: 'request path contains a control character' };
  p = p.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  for (const seg of p.split('/')) {
    if (seg === '..' || seg === '.') {
      return { ok: false, reason: 'traversal', message: 'request path contains a "." or ".." segment (possibly encoded); path traversal is refused' };
    }
  }
  return { ok: true, path: p };
}

/** Splits a request target (`/a/b?x=1`) into path and query (query includes the `?`, or is ''). */
export function splitTarget(target: string): { path: string; query: string } {
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q) };
}

/**
 * Segment-aware prefix match on a normalised path: `/api` matches `/api`, `/api/` and `/api/x` but not
 * `/apix`; `/*` (or `/`) matches everything. A trailing `/*` on a prefix (`/api/*`) means the same as `/api`.
 */
export function matchesPrefix(path: string, prefix: string): boolean {
  let pre = prefix;
  if (pre === '/*' || pre === '/' || pre === '*') return true;
  if (pre.endsWith('/*')) pre = pre.slice(0, -2);
  if (pre.endsWith('/')) pre = pre.slice(0, -1);
  if (!path.startsWith(pre)) return false;
  return path.length === pre.length || path.charCodeAt(pre.length) === 0x2f;
}
