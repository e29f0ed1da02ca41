/**
 * The outcome of one check, as the agent produces it and the server stores it.
 * Timings are milliseconds measured from socket events; a phase that did not
 * happen (no DNS lookup for an IP literal, no TLS on plain http, never reached
 * because an earlier phase failed) is null.
 */
import { z } from 'zod';
import { AssertionOutcomeSchema } from '../assertions/index.js';
import { DnsRecordTypeSchema } from '../checks/dns/record-types.js';

export const CHECK_STATUSES = ['up', 'down'] as const;
export const CheckStatusSchema = z.enum(CHECK_STATUSES);
export type CheckStatus = z.output<typeof CheckStatusSchema>;

/**
 * Why a check is down:
 *  - dns: name resolution failed (ENOTFOUND, NXDOMAIN, no records, resolver unreachable)
 *  - connect: TCP connect failed (refused, unreachable, reset before the handshake)
 *  - tls: handshake or certificate failure (untrusted, expired, name mismatch, expected SAN missing)
 *  - timeout: the check did not finish within timeout_ms
 *  - http: the request failed after connecting (reset, malformed response, too many
 *          redirects), or the status is not 2xx/3xx and no status assertion is set
 *  - assertion: the check ran but at least one assertion failed
 */
export const ERROR_CLASSES = ['dns', 'connect', 'tls', 'timeout', 'http', 'assertion'] as const;
export const ErrorClassSchema = z.enum(ERROR_CLASSES);
export type ErrorClass = z.output<typeof ErrorClassSchema>;

const Ms = z.number().nonnegative().nullable();

export const TlsDetailsSchema = z.object({
  /** whole and fractional days until notAfter (negative once expired) */
  days_remaining: z.number(),
  valid_from: z.string(),
  valid_to: z.string(),
  issuer: z.string(),
  subject: z.string(),
  san: z.array(z.string()),
  /** whether the certificate covers expected_san (or the host when none is set) */
  san_match: z.boolean(),
  /** whether the chain verified against the trusted roots */
  authorized: z.boolean(),
  authorization_error: z.string().nullable(),
  protocol: z.string().nullable(),
});
export type TlsDetails = z.output<typeof TlsDetailsSchema>;

export const DnsDetailsSchema = z.object({
  record_type: DnsRecordTypeSchema,
  /** rendered records: A/AAAA addresses, CNAME targets, MX "priority exchange", TXT joined chunks */
  records: z.array(z.string()),
  resolver: z.string().nullable(),
});
export type DnsDetails = z.output<typeof DnsDetailsSchema>;

export const CheckResultSchema = z.object({
  status: CheckStatusSchema,
  http_code: z.number().int().nullable(),
  dns_ms: Ms,
  connect_ms: Ms,
  tls_ms: Ms,
  ttfb_ms: Ms,
  download_ms: Ms,
  total_ms: z.number().nonnegative(),
  size_bytes: z.number().int().nonnegative(),
  error: z.string().nullable(),
  error_class: ErrorClassSchema.nullable(),
  assertions: z.array(AssertionOutcomeSchema),
  /** epoch ms (wall clock of the agent) */
  started_at: z.number(),
  finished_at: z.number(),
  tls: TlsDetailsSchema.nullable(),
  dns: DnsDetailsSchema.nullable(),
});
export type CheckResult = z.output<typeof CheckResultSchema>;

/** What a check measured, without the verdict (status, assertions) and the run's start and end times. */
export type CheckMeasurement = Omit<CheckResult, 'status' | 'assertions' | 'started_at' | 'finished_at'>;

/** A measurement of nothing: no phase happened, no response, no error recorded yet. */
export function nullMeasurement(): CheckMeasurement {
  return {
    ...noMeasurements(),
    total_ms: 0,
    size_bytes: 0,
    error: null,
    error_class: null,
    tls: null,
    dns: null,
  };
}

/** A check result as a worker reports it to the server and the store keeps it (validated at the worker API). */
export interface ResultInput {
  run_id: string;
  event_at: number;
  status: 'up' | 'down';
  http_code: number | null;
  dns_ms: number | null;
  connect_ms: number | null;
  tls_ms: number | null;
  ttfb_ms: number | null;
  download_ms: number | null;
  total_ms: number | null;
  size_bytes: number | null;
  error: string | null;
  error_class: string | null;
  /** JSON text of the assertion outcomes. */
  assertions: string | null;
  /** JSON text of type-specific details. */
  details: string | null;
  started_at: number | null;
  finished_at: number | null;
}

/** The measurements of a check that measured nothing: no HTTP code and every phase timing null. */
export function noMeasurements(): Pick<ResultInput, 'http_code' | 'dns_ms' | 'connect_ms' | 'tls_ms' | 'ttfb_ms' | 'download_ms'> {
  return { http_code: null, dns_ms: null, connect_ms: null, tls_ms: null, ttfb_ms: null, download_ms: null };
}

/** A `down` result of run `runId` at `eventAt` with nothing measured (callers set the error they record). */
export function nullResult(runId: string, eventAt: number): ResultInput {
  return {
    run_id: runId,
    event_at: eventAt,
    status: 'down',
    ...noMeasurements(),
    total_ms: null,
    size_bytes: null,
    error: null,
    error_class: null,
    assertions: null,
    details: null,
    started_at: null,
    finished_at: null,
  };
}
