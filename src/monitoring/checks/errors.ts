import type { ErrorClass } from '../domain/result.js';

const DNS_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EAI_NODATA',
  'EAI_FAIL',
  'ENODATA',
  'ESERVFAIL',
  'ENONAME',
  'EFORMERR',
  'ENOTIMP',
  'EBADNAME',
  'EBADRESP',
  'EBADQUERY',
]);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EHOSTDOWN', 'ENETDOWN']);
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH|^ERR_TLS_|^ERR_SSL_|^EPROTO$/;
const TIMEOUT_CODES = new Set(['ETIMEOUT', 'ETIMEDOUT', 'ECANCELLED', 'ABORT_ERR']);

/** The phase a failure happened in, from which socket events had fired. */
export type Phase = 'dns' | 'connect' | 'tls' | 'http';

/**
 * Error class for a failed probe: known error codes win (ENOTFOUND → dns,
 * ECONNREFUSED → connect, certificate errors → tls, timeouts → timeout);
 * otherwise the phase the socket was in decides.
 */
export function classifyError(err: unknown, phase: Phase): ErrorClass {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (DNS_CODES.has(code)) return 'dns';
    if (CONNECT_CODES.has(code)) return 'connect';
    if (TLS_CODE.test(code)) return 'tls';
    if (TIMEOUT_CODES.has(code)) return 'timeout';
  }
  return phase;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const msg = err.message || String(code ?? 'error');
    return typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg;
  }
  return String(err);
}

/** The error thrown into a socket when the check's deadline passes. */
export class CheckTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'CheckTimeoutError';
  }
}
