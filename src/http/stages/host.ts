import { isIPv4, isIPv6 } from 'node:net';

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
