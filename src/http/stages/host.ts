import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import { HttpError } from '../errors.js';
import { requestAuthority } from '../http2.js';
import type { LiveSecurity } from '../live-security.js';
import type { Stage } from '../pipeline.js';

/**
 * Host header validation (host-header injection). A valid Host is a DNS name (letters, digits, '-', '.',
 * labels of 1–63 characters, at most 253 in all), an IPv4 address or a bracketed IPv6 address, optionally with
 * a port 1–65535. Anything else — spaces, CR/LF, '/', '@', '\\', quotes, several ports, non-ASCII — is
 * refused. Responses only ever use a Host that passed this check (`safeHost`).
 */
const LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * The last Host found valid. Keep-alive clients send the same Host on every request, and validity depends on
 * the text alone, so the common case is one string comparison instead of the parse and regexes below.
 */
let lastValid = '';

export function isValidHost(value: string | undefined): boolean {
  if (value === undefined || value.length === 0 || value.length > 261) return false;
  if (value === lastValid) return true;
  if (!checkHost(value)) return false;
  lastValid = value;
  return true;
}

function checkHost(value: string): boolean {
  let host = value;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end === -1) return false;
    const inner = host.slice(1, end);
    const rest = host.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return false;
      port = rest.slice(1);
    }
    if (!isIPv6(inner)) return false;
    return port === undefined || isPort(port);
  }
  const colon = host.lastIndexOf(':');
  if (colon !== -1) {
    port = host.slice(colon + 1);
    host = host.slice(0, colon);
    if (!isPort(port)) return false;
  }
  if (isIPv4(host)) return true;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return false;
  for (const label of name.split('.')) if (!LABEL.test(label)) return false;
  // A name that looks numeric but is not a valid IPv4 address ("1.2.3.999", "0x7f.1") is refused.
  if (/^[0-9.]+$/.test(name) || /^0x/i.test(name)) return false;
  return true;
}

function isPort(p: string): boolean {
  if (!/^\d{1,5}$/.test(p)) return false;
  const n = Number(p);
  return n >= 1 && n <= 65535;
}

/** The Host to use in a response or a forwarded header: the request's when valid, else `fallback`. */
export function safeHost(value: string | undefined, fallback: string): string {
  return isValidHost(value) ? (value as string) : fallback;
}

/**
 * Host header injection: a Host (or HTTP/2 `:authority`) that is not a host name or address with an optional
 * port is refused with 400. Returns the refusal, or null when the Host is acceptable (or absent).
 */
export function hostRefusal(req: IncomingMessage, live: Pick<LiveSecurity, 'onDenied'>): HttpError | null {
  const host = requestAuthority(req);
  if (host === undefined || isValidHost(host)) return null;
  live.onDenied('host');
  return new HttpError(400, 'invalid Host header: expected a host name or IP address with an optional port', { field: 'host' });
}

/** The management pipeline's Host check (see hostRefusal). */
export function hostStage(live: Pick<LiveSecurity, 'onDenied'>): Stage {
  return (ctx, next) => {
    const refused = hostRefusal(ctx.req, live);
    if (refused !== null) throw refused;
    return next();
  };
}
