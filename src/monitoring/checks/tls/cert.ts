import { checkServerIdentity } from 'node:tls';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { TlsDetails } from '../../domain/result.js';

const DAY_MS = 86_400_000;

function formatName(name: Record<string, string | string[] | undefined> | undefined): string {
  if (!name) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(name)) {
    if (v === undefined) continue;
    parts.push(`${k}=${Array.isArray(v) ? v.join('+') : v}`);
  }
  return parts.join(', ');
}

/** "DNS:a.example, IP Address:127.0.0.1" → ["a.example", "127.0.0.1"] */
export function parseSubjectAltName(s: string | undefined): string[] {
  if (!s) return [];
  const out: string[] = [];
  for (const part of s.split(/,\s*/)) {
    const i = part.indexOf(':');
    if (i > 0) out.push(part.slice(i + 1).trim());
  }
  return out;
}

/** Whether the certificate covers `name` (wildcards and IP SANs as TLS clients check them). */
export function certMatches(name: string, cert: PeerCertificate): boolean {
  return checkServerIdentity(name, cert) === undefined;
}

/** TLS details of a connected socket; null when the peer sent no certificate. */
export function tlsDetails(sock: TLSSocket, sanName: string, nowMs: number): TlsDetails | null {
  const cert = sock.getPeerCertificate(false);
  if (!cert || Object.keys(cert).length === 0) return null;
  const validTo = Date.parse(cert.valid_to);
  const authErr = sock.authorizationError as unknown;
  return {
    days_remaining: Number.isFinite(validTo) ? (validTo - nowMs) / DAY_MS : 0,
    valid_from: cert.valid_from,
    valid_to: cert.valid_to,
    issuer: formatName(cert.issuer as unknown as Record<string, string | string[] | undefined>),
    subject: formatName(cert.subject as unknown as Record<string, string | string[] | undefined>),
    san: parseSubjectAltName(cert.subjectaltname),
    san_match: certMatches(sanName, cert),
    authorized: sock.authorized,
    authorization_error: authErr === null || authErr === undefined ? null : String((authErr as Error).message ?? authErr),
    protocol: sock.getProtocol() ?? null,
  };
}
