/**
 * `proxy_endpoints` matching. A prefix matches the path itself and everything below it on a segment boundary:
 * "/api" matches "/api", "/api/", "/api/users" but not "/apix". "/*" (or "*") matches every path, and a trailing
 * "/*" means the same as the prefix without it ("/api/*" = "/api").
 */
export type PrefixMatcher = (pathname: string) => boolean;

export function compilePrefixes(list: readonly string[]): PrefixMatcher {
  const prefixes: string[] = [];
  for (const raw of list) {
    const p = raw.trim();
    if (p === '/*' || p === '*' || p === '/') return () => true;
    if (p === '') continue;
    let base = p.endsWith('/*') ? p.slice(0, -2) : p;
    while (base.length > 1 && base.endsWith('/')) base = base.slice(0, -1);
    if (!prefixes.includes(base)) prefixes.push(base);
  }
  if (prefixes.length === 0) return () => false;
  return (pathname) => {
    for (const p of prefixes) {
      if (pathname.startsWith(p) && (pathname.length === p.length || pathname.charCodeAt(p.length) === 47 /* / */)) return true;
    }
    return false;
  };
}

/** The path part of a request target ("/a/b?x=1" → "/a/b"); absolute-form targets are reduced to their path. */
export function pathOf(url: string): string {
  let u = url;
  if (u.charCodeAt(0) !== 47) {
    // absolute-form ("http://host/path?q"), used by clients talking to a forward proxy
    const scheme = u.indexOf('://');
    if (scheme > 0) {
      const slash = u.indexOf('/', scheme + 3);
      u = slash === -1 ? '/' : u.slice(slash);
    }
  }
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}

/** The request target to forward: path and query exactly as received (absolute-form reduced to origin-form). */
export function originForm(url: string): string {
  if (url.charCodeAt(0) === 47) return url;
  const scheme = url.indexOf('://');
  if (scheme > 0) {
    const slash = url.indexOf('/', scheme + 3);
    if (slash === -1) {
      const q = url.indexOf('?', scheme + 3);
      return q === -1 ? '/' : '/' + url.slice(q);
    }
    return url.slice(slash);
  }
  return url;
}
