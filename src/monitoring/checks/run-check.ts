/**
 * Run one check: pick the probe for the check type, evaluate the assertions,
 * decide the status. Never throws; every failure becomes a `down` result.
 *
 * Status rules:
 *  - the probe failed (dns/connect/tls/timeout/http error) → down, that class;
 *  - http without a status assertion: a status outside 200–399 → down, 'http';
 *  - any assertion failed → down, 'assertion';
 *  - otherwise up.
 */
import { evaluateAssertions, needsBody, needsCert } from '../assertions/index.js';
import type { Assertion, AssertionOutcome } from '../assertions/index.js';
import { checkTarget } from './spec.js';
import type { CheckSpec } from './spec.js';
import type { CheckResult } from '../domain/result.js';
import { probeDns } from './dns/probe.js';
import { errorMessage } from './errors.js';
import { probeHttp } from './http/probe.js';
import { probeTcp } from './tcp/probe.js';
import { probeTls } from './tls/probe.js';
import { emptyOutcome } from './types.js';
import type { ProbeOutcome } from './types.js';

export interface RunCheckOptions {
  /** wall clock (epoch ms) for started_at/finished_at and certificate expiry; default Date.now */
  now?: () => number;
  /** aborting ends the check as a timeout */
  signal?: AbortSignal;
}

async function probe(spec: CheckSpec, assertions: readonly Assertion[], now: () => number, signal: AbortSignal | undefined): Promise<ProbeOutcome> {
  let target;
  try {
    target = checkTarget(spec.type, spec.url);
  } catch (e) {
    const out = emptyOutcome();
    out.error = errorMessage(e);
    out.error_class = spec.type === 'dns' ? 'dns' : 'connect';
    return out;
  }
  const opts = { needBody: needsBody(assertions), needCert: needsCert(assertions), now, signal };
  switch (target.type) {
    case 'http':
      return probeHttp(spec, target.url, opts);
    case 'tcp':
      return probeTcp(target.host, target.port, spec.timeout_ms, opts);
    case 'dns':
      return probeDns(target.name, spec.options.record_type, spec.options.resolver, spec.timeout_ms, opts);
    case 'tls':
      return probeTls(
        { host: target.host, port: target.port, timeoutMs: spec.timeout_ms, verify: spec.options.tls_verify, expectedSan: spec.options.expected_san },
        opts,
      );
  }
}

function firstFailure(outcomes: readonly AssertionOutcome[]): AssertionOutcome | undefined {
  for (const o of outcomes) if (!o.passed) return o;
  return undefined;
}

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
  } else if (spec.type === 'http' && !assertions.some((a) => a.type === 'status') && (p.http_code === null || p.http_code < 200 || p.http_code > 399)) {
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

