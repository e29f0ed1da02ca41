/**
 * A small, strict JSONPath subset for assertions: a root `$` followed by
 * member access (`.name`, `['name']`, `["name"]`) and array indexing (`[0]`,
 * `[-1]` counts from the end). No wildcards, filters or recursive descent, so
 * every path selects at most one value.
 */

export type JsonPathSegment = string | number;

export type JsonPathParse =
  | { ok: true; segments: JsonPathSegment[] }
  | { ok: false; error: string };

const IDENT_CHAR = /[A-Za-z0-9_$-]/;
const MAX_PATH_LENGTH = 512;

export function parseJsonPath(path: string): JsonPathParse {
  if (path.length === 0) return { ok: false, error: 'empty JSON path' };
  if (path.length > MAX_PATH_LENGTH) return { ok: false, error: `JSON path longer than ${MAX_PATH_LENGTH} characters` };
  if (path[0] !== '$') return { ok: false, error: `JSON path must start with '$': ${path}` };
  const segments: JsonPathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      i++;
      const start = i;
      while (i < path.length && IDENT_CHAR.test(path[i] as string)) i++;
      if (i === start) return { ok: false, error: `expected a member name after '.' at position ${start} in ${path}` };
      segments.push(path.slice(start, i));
    } else if (c === '[') {
      i++;
      const q = path[i];
      if (q === '"' || q === "'") {
        i++;
        let name = '';
        let closed = false;
        while (i < path.length) {
          const ch = path[i] as string;
          if (ch === '\\' && i + 1 < path.length) {
            name += path[i + 1];
            i += 2;
            continue;
          }
          if (ch === q) {
            closed = true;
            i++;
            break;
          }
          name += ch;
          i++;
        }
        if (!closed) return { ok: false, error: `unterminated quoted member name in ${path}` };
        if (path[i] !== ']') return { ok: false, error: `expected ']' at position ${i} in ${path}` };
        i++;
        segments.push(name);
      } else {
        const start = i;
        if (path[i] === '-') i++;
        while (i < path.length && (path[i] as string) >= '0' && (path[i] as string) <= '9') i++;
        const digits = path.slice(start, i);
        if (digits === '' || digits === '-') return { ok: false, error: `expected an array index or quoted name at position ${start} in ${path}` };
        if (path[i] !== ']') return { ok: false, error: `expected ']' at position ${i} in ${path}` };
        i++;
        const n = Number(digits);
        if (!Number.isSafeInteger(n)) return { ok: false, error: `array index out of range in ${path}` };
        segments.push(n);
      }
    } else {
      return { ok: false, error: `unexpected '${c}' at position ${i} in ${path}` };
    }
  }
  return { ok: true, segments };
}

export interface JsonPathHit {
  found: boolean;
  value: unknown;
}

const MISSING: JsonPathHit = Object.freeze({ found: false, value: undefined }) as JsonPathHit;

/** Select the value at `segments` inside `root`; `found` is false when any step is missing. */
export function selectJsonPath(root: unknown, segments: readonly JsonPathSegment[]): JsonPathHit {
  let cur: unknown = root;
  for (const seg of segments) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur)) return MISSING;
      const idx = seg < 0 ? cur.length + seg : seg;
      if (idx < 0 || idx >= cur.length) return MISSING;
      cur = cur[idx];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return MISSING;
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) return MISSING;
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return { found: true, value: cur };
}

/** Render segments back to canonical path text (`$.a['b c'][0]`). */
export function formatJsonPath(segments: readonly JsonPathSegment[]): string {
  let out = '$';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_$-]+$/.test(seg)) out += `.${seg}`;
    else out += `['${seg.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
  }
  return out;
}
