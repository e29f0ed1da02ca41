/** Regular expressions in assertions: a `(?i)` prefix means case-insensitive (RE2/Go style). */

function splitFlags(pattern: string): { source: string; flags: string } {
  if (pattern.startsWith('(?i)')) return { source: pattern.slice(4), flags: 'i' };
  return { source: pattern, flags: '' };
}

/** The syntax error of a pattern, null when it compiles. */
export function regexError(pattern: string): string | null {
  try {
    const { source, flags } = splitFlags(pattern);
    new RegExp(source, flags);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const regexCache = new Map<string, RegExp>();
/** The compiled pattern (cached, at most 1024 entries). */
export function compiled(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    const { source, flags } = splitFlags(pattern);
    re = new RegExp(source, flags);
    if (regexCache.size >= 1024) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}
