/**
 * Worker identity from the TLS client certificate (mTLS on the worker API). The certificate must chain to the
 * worker CA (node:tls verifies chain and validity; `authorizationError` says why not) and name the worker in
 * a SAN URI `urn:vantage:worker:<id>`. The worker id comes from here, never from the register message.
 */
import type { TLSSocket } from 'node:tls';
import type { PeerCert } from '../pki/authority.js';
import { REGION_URI_PREFIX, WORKER_URI_PREFIX } from '../pki/issue.js';

export interface WorkerCertPrincipal {
  readonly kind: 'worker-cert';
  readonly workerId: string;
  readonly region: string;
  readonly serial: string;
}

declare module './principal.js' {
  interface PrincipalKinds {
    'worker-cert': WorkerCertPrincipal;
  }
}

export type PeerCertOutcome = { ok: true; peer: PeerCert } | { ok: false; reason: 'none' | string };

const REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'client certificate expired',
  CERT_NOT_YET_VALID: 'client certificate not yet valid',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'client certificate not issued by this server\'s worker CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'client certificate not issued by this server\'s worker CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'client certificate is self-signed, not issued by this server\'s worker CA',
  CERT_SIGNATURE_FAILURE: 'client certificate signature invalid',
};

/** Reads the peer certificate of a TLS socket that asked for one (requestCert, rejectUnauthorized: false). */
export function peerCertOf(socket: TLSSocket | undefined): PeerCertOutcome {
  if (!socket || typeof socket.getPeerCertificate !== 'function') return { ok: false, reason: 'none' };
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return { ok: false, reason: 'none' };
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'unknown');
    return { ok: false, reason: REASONS[code] ?? `client certificate refused (${code})` };
  }
  const sans = (cert.subjectaltname ?? '').split(/,\s*/);
  const uri = (prefix: string) => sans.find((s) => s.startsWith(`URI:${prefix}`))?.slice(4 + prefix.length);
  const workerId = uri(WORKER_URI_PREFIX);
  if (!workerId) return { ok: false, reason: 'client certificate names no worker (SAN urn:vantage:worker:<id> missing)' };
  return { ok: true, peer: { workerId, region: uri(REGION_URI_PREFIX) ?? 'global', serial: cert.serialNumber.toUpperCase().replace(/^0+/, '') } };
}
