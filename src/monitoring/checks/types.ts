import type { Observation } from '../assertions/index.js';
import type { DnsDetails, ErrorClass, TlsDetails } from '../domain/result.js';

/** What an executor measured, before assertions decide the status. */
export interface ProbeOutcome {
  /** the probe itself succeeded (request answered, port open, records found, handshake accepted) */
  ok: boolean;
  http_code: number | null;
  dns_ms: number | null;
  connect_ms: number | null;
  tls_ms: number | null;
  ttfb_ms: number | null;
  download_ms: number | null;
  total_ms: number;
  size_bytes: number;
  error: string | null;
  error_class: ErrorClass | null;
  tls: TlsDetails | null;
  dns: DnsDetails | null;
  observation: Observation;
}

export interface ProbeOptions {
  /** buffer the response body (only when an assertion reads it) */
  needBody: boolean;
  /** read the peer certificate (only when an assertion or the check type needs it) */
  needCert: boolean;
  /** wall clock, for certificate expiry maths */
  now: () => number;
  /** aborting ends the probe as a timeout */
  signal?: AbortSignal;
}

/** Round to microseconds; timings come from performance.now() deltas. */
export function ms(from: number, to: number): number {
  const d = to - from;
  return d > 0 ? Math.round(d * 1000) / 1000 : 0;
}

export function emptyOutcome(): ProbeOutcome {
  return {
    ok: false,
    http_code: null,
    dns_ms: null,
    connect_ms: null,
    tls_ms: null,
    ttfb_ms: null,
    download_ms: null,
    total_ms: 0,
    size_bytes: 0,
    error: null,
    error_class: null,
    tls: null,
    dns: null,
    observation: {},
  };
}
