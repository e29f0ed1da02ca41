/**
 * Run one check: pick the probe of the check type from the registry, evaluate the assertions,
 * decide the status. Never throws; every failure becomes a `down` result.
 *
 * Status rules:
 *  - the probe failed (dns/connect/tls/timeout/http error) → down, that class;
 *  - http (a type whose definition has statusDecides) without a status assertion: a status outside 200–399 → down, 'http';
 *  - any assertion failed → down, 'assertion';
 *  - otherwise up.
 */
import { evaluateAssertions, needsBody, needsCert } from '../assertions/index.js';
import type { Assertion, AssertionOutcome } from '../assertions/index.js';
import type { CheckResult } from '../domain/result.js';
import { errorMessage } from './errors.js';
import { checkType } from './registry.js';
import type { CheckSpec } from './spec.js';
import { targetOf } from './spec.js';
import { emptyOutcome } from './types.js';
import type { ProbeOutcome } from './types.js';

export interface RunCheckOptions {
  /** wall clock (epoch ms) for started_at/finished_at and certificate expiry; default Date.now */
  now?: () => number;
  /** aborting ends the check as a timeout */
  signal?: AbortSignal;
}

async function probe(spec: CheckSpec, assertions: readonly Assertion[], now: () => number, signal: AbortSignal | undefined): Promise<ProbeOutcome> {
  const def = checkType(spec.type);
  let target;
  try {
    target = targetOf(def, spec.type, spec.url);
  } catch (e) {
    const out = emptyOutcome();
    out.error = errorMessage(e);
    out.error_class = def?.targetErrorClass ?? 'connect';
    return out;
  }
  return (def as NonNullable<typeof def>).probe(spec, target, { needBody: needsBody(assertions), needCert: needsCert(assertions), now, signal });
}

function firstFailure(outcomes: readonly AssertionOutcome[]): AssertionOutcome | undefined {
  for (const o of outcomes) if (!o.passed) return o;
  return undefined;
}

/** Probe, evaluate the assertions, decide the status. */
export async function runCheck(spec: CheckSpec, assertions: readonly Assertion[], options: RunCheckOptions = {}): Promise<CheckResult> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  let p: ProbeOutcome;
  try {
    p = await probe(spec, assertions, now, options.signal);
  } catch (e) {
    // probes resolve rather than reject; this is a last line of defence
    p = emptyOutcome();
    p.error = errorMessage(e);
    p.error_class = 'http';
  }
  const outcomes = evaluateAssertions(assertions, p.observation);
  let status: CheckResult['status'] = 'up';
  let error = p.error;
  let errorClass = p.error_class;
  if (!p.ok) {
    status = 'down';
    errorClass ??= 'http';
    error ??= 'check failed';
  } else if (checkType(spec.type)?.statusDecides === true && !assertions.some((a) => a.type === 'status') && (p.http_code === null || p.http_code < 200 || p.http_code > 399)) {
    status = 'down';
    errorClass = 'http';
    error = `HTTP ${p.http_code ?? 'no status'}`;
  } else {
    const failed = firstFailure(outcomes);
    if (failed !== undefined) {
      status = 'down';
      errorClass = 'assertion';
      const n = outcomes.reduce((k, o) => k + (o.passed ? 0 : 1), 0);
      error = `assertion failed: ${failed.assertion} (actual: ${JSON.stringify(failed.actual)}${failed.error ? `, ${failed.error}` : ''})${n > 1 ? ` and ${n - 1} more` : ''}`;
    }
  }
  return {
    status,
    http_code: p.http_code,
    dns_ms: p.dns_ms,
    connect_ms: p.connect_ms,
    tls_ms: p.tls_ms,
    ttfb_ms: p.ttfb_ms,
    download_ms: p.download_ms,
    total_ms: p.total_ms,
    size_bytes: p.size_bytes,
    error: status === 'up' ? null : error,
    error_class: status === 'up' ? null : errorClass,
    assertions: outcomes,
    started_at: startedAt,
    finished_at: now(),
    tls: p.tls,
    dns: p.dns,
  };
}

