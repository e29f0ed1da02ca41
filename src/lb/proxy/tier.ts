/**
 * Tier detection for proxied requests, in the seed's priority order:
 * 1. the JSON body field `tier_field_name` (only for JSON bodies),
 * 2. the query parameter `?tier=`,
 * 3. the header `tier_header`,
 * 4. otherwise none (the engine applies `default_tier`).
 * Empty and non-string values count as absent.
 */
export type TierSource = 'body' | 'query' | 'header' | 'default';

export interface DetectedTier {
  tier: string | null;
  source: TierSource;
}

/** True for application/json and application/*+json content types (parameters ignored). */
export function isJsonContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  const semi = ct.indexOf(';');
  const base = (semi === -1 ? ct : ct.slice(0, semi)).trim().toLowerCase();
  return base === 'application/json' || (base.startsWith('application/') && base.endsWith('+json'));
}

/** The string value of `field` in a JSON object body; null when the body is not a JSON object or lacks it. */
export function tierFromJsonBody(body: Buffer | string, field: string): string | null {
  if (!field || body.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const v = (parsed as Record<string, unknown>)[field];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** The value of the `tier` query parameter of a request target ("/p?a=1&tier=x"), or null. */
export function tierFromQuery(url: string): string | null {
  const q = url.indexOf('?');
  if (q === -1 || url.indexOf('tier=', q) === -1) return null;
  const v = new URLSearchParams(url.slice(q + 1)).get('tier');
  return v ? v : null;
}

export function detectTier(src: {
  body?: Buffer | string | null;
  tierField: string;
  url: string;
  header?: string | string[] | undefined;
}): DetectedTier {
  if (src.body) {
    const t = tierFromJsonBody(src.body, src.tierField);
    if (t !== null) return { tier: t, source: 'body' };
  }
  const q = tierFromQuery(src.url);
  if (q !== null) return { tier: q, source: 'query' };
  const h = Array.isArray(src.header) ? src.header[0] : src.header;
  if (h) {
    const t = h.trim();
    if (t) return { tier: t, source: 'header' };
  }
  return { tier: null, source: 'default' };
}
