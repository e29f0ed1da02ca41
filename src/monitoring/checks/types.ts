import type { Observation } from '../assertions/index.js';
import { nullMeasurement } from '../domain/result.js';
import type { CheckMeasurement } from '../domain/result.js';

/** What a probe measured, before assertions decide the status. */
export interface ProbeOutcome extends CheckMeasurement {
  /** the probe itself succeeded (request answered, port open, records found, handshake accepted) */
  ok: boolean;
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
  return { ok: false, ...nullMeasurement(), observation: {} };
}
