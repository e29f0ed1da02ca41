import type { UpstreamErrorKind } from './metrics.js';

const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const CONNECT = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  // TLS handshake / verification failures: the backend could not be reached properly
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** What went wrong talking to a backend, from an undici / node:net error. */
export function classifyUpstreamError(err: unknown): UpstreamErrorKind {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  const code = e?.code ?? '';
  if (TIMEOUT.has(code)) return 'timeout';
  if (CONNECT.has(code)) return 'connect';
  if (RESET.has(code)) return 'reset';
  const cause = e?.cause?.code ?? '';
  if (CONNECT.has(cause)) return 'connect';
  if (RESET.has(cause)) return 'reset';
  return 'other';
}

/** Thrown into the upstream body when a chunked request body grows past max_request_body_bytes. */
export class BodyTooLargeError extends Error {
  readonly code = 'VANTAGE_BODY_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}
