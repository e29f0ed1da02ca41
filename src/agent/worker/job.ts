/**
 * Conversions between the worker API's messages and the check model:
 * a leased Job → a validated CheckSpec + assertions, and a CheckResult → a Result.
 */
import { create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Job, Result } from '../../gen/vantage/v1/worker_pb.js';
import { ResultSchema } from '../../gen/vantage/v1/worker_pb.js';
import { describeAssertionErrors, validateAssertions } from '../../monitoring/assertions/index.js';
import type { Assertion } from '../../monitoring/assertions/index.js';
import { checkSpecSchema } from '../../monitoring/checks/registry.js';
import type { CheckSpec } from '../../monitoring/checks/spec.js';
import { nullMeasurement } from '../../monitoring/domain/result.js';
import type { CheckResult } from '../../monitoring/domain/result.js';

export type PreparedJob = { ok: true; spec: CheckSpec; assertions: Assertion[] } | { ok: false; error: string };

function parseJson(text: string, fallback: unknown): unknown {
  return text === '' ? fallback : JSON.parse(text);
}

/** Validate a job's check fields (the server validated them at save time; this guards the boundary). */
export function prepareJob(job: Job): PreparedJob {
  let options: unknown;
  let rawAssertions: unknown;
  try {
    options = parseJson(job.optionsJson, {});
    rawAssertions = parseJson(job.assertionsJson, []);
  } catch (e) {
    return { ok: false, error: `invalid job JSON: ${(e as Error).message}` };
  }
  const spec = checkSpecSchema().safeParse({
    type: job.type === '' ? 'http' : job.type,
    url: job.url,
    method: job.method === '' ? 'GET' : job.method,
    headers: job.headers,
    body: job.body,
    timeout_ms: Number(job.timeoutMs) > 0 ? Number(job.timeoutMs) : undefined,
    options: options ?? {},
  });
  if (!spec.success) {
    const issue = spec.error.issues[0];
    return { ok: false, error: `invalid check: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}` };
  }
  const assertions = validateAssertions(rawAssertions);
  if (!assertions.ok) return { ok: false, error: `invalid assertions: ${describeAssertionErrors(assertions.errors)}` };
  return { ok: true, spec: spec.data, assertions: assertions.assertions };
}

/**
 * Jobs of one monitor repeat the same check fields; validating them once per
 * distinct content keeps the per-check cost low at hundreds of checks/s.
 */
export class JobCache {
  private readonly map = new Map<string, PreparedJob>();
  constructor(private readonly max = 20_000) {}

  prepare(job: Job): PreparedJob {
    const key = jobKey(job);
    let p = this.map.get(key);
    if (p === undefined) {
      p = prepareJob(job);
      if (this.map.size >= this.max) this.map.clear();
      this.map.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.map.size;
  }
}

function jobKey(j: Job): string {
  let headers = '';
  for (const k of Object.keys(j.headers).sort()) headers += `${k}\u0001${j.headers[k] ?? ''}\u0002`;
  return `${j.monitorId}\u0000${j.type}\u0000${j.url}\u0000${j.method}\u0000${j.timeoutMs}\u0000${j.optionsJson}\u0000${j.assertionsJson}\u0000${headers}\u0000${j.body}`;
}

type Int64 = Result['eventAtMs'];
// protoc-gen-es emits int64 as bigint (it ignores jstype = JS_NUMBER); follow whatever was generated.
const BIGINT = typeof create(ResultSchema).eventAtMs === 'bigint';

/** A number as the generated int64 field type. */
export function i64(v: number): Int64 {
  const n = Math.round(v);
  return (BIGINT ? BigInt(n) : n) as Int64;
}

const round = i64;

/** A Result message for a finished check; times are converted to the server clock (worker time − offset). */
export function toResultMessage(job: Job, r: CheckResult, offsetMs: number): Result {
  const init: MessageInitShape<typeof ResultSchema> = {
    runId: job.runId,
    monitorId: job.monitorId,
    eventAtMs: round(r.started_at - offsetMs),
    startedAtMs: round(r.started_at - offsetMs),
    finishedAtMs: round(r.finished_at - offsetMs),
    status: r.status,
    httpCode: r.http_code ?? 0,
    totalMs: r.total_ms,
    sizeBytes: i64(r.size_bytes),
    error: r.error ?? '',
    errorClass: r.error_class ?? '',
    assertionsJson: r.assertions.length > 0 ? JSON.stringify(r.assertions) : '[]',
    detailsJson: r.tls === null && r.dns === null ? '' : JSON.stringify({ tls: r.tls ?? undefined, dns: r.dns ?? undefined }),
  };
  if (r.dns_ms !== null) init.dnsMs = r.dns_ms;
  if (r.connect_ms !== null) init.connectMs = r.connect_ms;
  if (r.tls_ms !== null) init.tlsMs = r.tls_ms;
  if (r.ttfb_ms !== null) init.ttfbMs = r.ttfb_ms;
  if (r.download_ms !== null) init.downloadMs = r.download_ms;
  return create(ResultSchema, init);
}

/** A `down` result for a job that cannot run (invalid fields); sent so the run is closed, not retried. */
export function invalidJobResult(error: string, nowMs: number): CheckResult {
  return { status: 'down', ...nullMeasurement(), error, assertions: [], started_at: nowMs, finished_at: nowMs };
}
