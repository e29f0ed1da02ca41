/**
 * Header rewriting for the reverse proxy (RFC 9110 §7.6): hop-by-hop headers are stripped both ways
 * (Connection and every header it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-*),
 * X-Forwarded-For is appended to, X-Forwarded-Proto/-Host and Forwarded (RFC 7239) describe the client
 * connection, and Via names this proxy. The dashboard's credentials never reach a backend: the session cookie
 * (`vantage_session`) is taken out of Cookie and X-CSRF-Token is dropped, since proxied paths share the
 * dashboard's origin (docs/web.md#the-dashboard-on-the-main-port).
 */
import { withoutSessionCookie } from '../../auth/session.js';
import { CSRF_HEADER } from '../../http/stages/csrf.js';

export const VIA = '1.1 vantage';

/** Hop-by-hop headers (lower case), besides those named in Connection and any "proxy-*" header. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName) || lowerName.startsWith('proxy-');
}

/** Lower-case header names listed in Connection header values (e.g. "keep-alive, x-foo"). */
export function connectionTokens(values: readonly string[]): Set<string> | null {
  let set: Set<string> | null = null;
  for (const v of values) {
    for (const tok of v.split(',')) {
      const t = tok.trim().toLowerCase();
      if (t && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade') (set ??= new Set()).add(t);
    }
  }
  return set;
}

/** "::ffff:10.0.0.1" → "10.0.0.1"; other addresses unchanged. */
export function normalizeIp(addr: string | undefined): string {
  if (!addr) return 'unknown';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A Forwarded parameter value: a token as-is, otherwise a quoted string; IPv6 `for` addresses bracketed. */
export function forwardedValue(v: string, isNode = false): string {
  const val = isNode && v.includes(':') ? `[${v}]` : v;
  return TOKEN_RE.test(val) ? val : `"${val.replace(/["\\]/g, '\\$&')}"`;
}

export interface ClientInfo {
  /** The peer address of the client connection. */
  remoteAddress: string | undefined;
  /** "http" or "https": how the client reached us. */
  proto: 'http' | 'https';
}

export interface RequestHeaderOptions {
  /** Keep Upgrade and send "Connection: upgrade" (WebSocket). */
  upgrade?: boolean;
  /** Ask for "Accept-Encoding: identity" so that the backend does not compress (SSE must never be compressed). */
  noCompression?: boolean;
}

/**
 * The headers to send upstream, as a flat [name, value, …] list built from the client's raw headers.
 * Host is left out (the HTTP client sets the backend's host; the original is in X-Forwarded-Host) and so is
 * Expect (Node answers 100-continue to the client itself). From an HTTP/2 client, pseudo-headers (`:method`,
 * `:path`, `:scheme`, `:authority`, `:protocol`) are never forwarded; `:authority` stands for Host.
 */
export function upstreamRequestHeaders(raw: readonly string[], client: ClientInfo, opts: RequestHeaderOptions = {}): string[] {
  let conn: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === 10 && n.toLowerCase() === 'connection') (conn ??= []).push(raw[i + 1]!);
  }
  const named = conn ? connectionTokens(conn) : null;
  const out: string[] = [];
  let xff: string | null = null;
  let fwd: string | null = null;
  let via: string | null = null;
  let host: string | null = null;
  let upgrade: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (name === ':authority' && host === null) host = value;
      continue;
    }
    const lower = name.toLowerCase();
    switch (lower) {
      case 'host':
        host = value;
        continue;
      case 'x-forwarded-for':
        xff = xff === null ? value : `${xff}, ${value}`;
        continue;
      case 'forwarded':
        fwd = fwd === null ? value : `${fwd}, ${value}`;
        continue;
      case 'via':
        via = via === null ? value : `${via}, ${value}`;
        continue;
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
      case 'expect':
        continue;
      case 'upgrade':
        upgrade = value;
        continue;
      case 'accept-encoding':
        if (opts.noCompression) continue;
        break;
      case 'cookie': {
        const kept = withoutSessionCookie(value);
        if (kept !== null) out.push(name, kept);
        continue;
      }
      case CSRF_HEADER:
        continue;
      default:
        if (isHopByHop(lower) || (named !== null && named.has(lower))) continue;
    }
    out.push(name, value);
  }
  const ip = normalizeIp(client.remoteAddress);
  out.push('x-forwarded-for', xff === null ? ip : `${xff}, ${ip}`);
  out.push('x-forwarded-proto', client.proto);
  if (host !== null) out.push('x-forwarded-host', host);
  let el = `for=${forwardedValue(ip, true)}`;
  if (host !== null) el += `;host=${forwardedValue(host)}`;
  el += `;proto=${client.proto}`;
  out.push('forwarded', fwd === null ? el : `${fwd}, ${el}`);
  out.push('via', via === null ? VIA : `${via}, ${VIA}`);
  if (opts.noCompression) out.push('accept-encoding', 'identity');
  if (opts.upgrade && upgrade !== null) out.push('connection', 'upgrade', 'upgrade', upgrade);
  return out;
}

/**
 * The headers to send to the client from the backend's raw response headers (Buffers from undici, or strings),
 * as a flat [name, value, …] list: hop-by-hop removed, Via appended, optional X-Vantage-Backend added.
 * Also reports whether the response is an SSE stream.
 */
export function downstreamResponseHeaders(
  raw: ReadonlyArray<Buffer | string>,
  backendId: string | null,
  keepUpgrade = false,
): { headers: string[]; sse: boolean } {
  let conn: string[] | null = null;
  const strs: string[] = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    const name = typeof n === 'string' ? n : n.toString('latin1');
    const v = raw[i + 1]!;
    const value = typeof v === 'string' ? v : v.toString('latin1');
    strs[i] = name;
    strs[i + 1] = value;
    if (name.length === 10 && name.toLowerCase() === 'connection') (conn ??= []).push(value);
  }
  const named = conn ? connectionTokens(conn) : null;
  const out: string[] = [];
  let via: string | null = null;
  let sse = false;
  for (let i = 0; i < strs.length; i += 2) {
    const name = strs[i]!;
    const value = strs[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'via') {
      via = via === null ? value : `${via}, ${value}`;
      continue;
    }
    if (lower === 'content-type' && value.toLowerCase().startsWith('text/event-stream')) sse = true;
    if (keepUpgrade && (lower === 'upgrade' || lower === 'connection')) {
      out.push(name, value);
      continue;
    }
    if (isHopByHop(lower) || (named !== null && named.has(lower))) continue;
    out.push(name, value);
  }
  out.push('via', via === null ? VIA : `${via}, ${VIA}`);
  if (backendId !== null) out.push('x-vantage-backend', backendId);
  return { headers: out, sse };
}
