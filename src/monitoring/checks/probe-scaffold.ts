/**
 * The finish/fail scaffolding every socket probe shares: one outcome, a deadline timer and the abort
 * signal both ending the probe as a timeout, `fail` recording the error (classified by the phase the
 * socket was in unless a class is given) and the total time, `finish` settling exactly once.
 */
import { performance } from 'node:perf_hooks';
import type { ErrorClass } from '../domain/result.js';
import { CheckTimeoutError, classifyError, errorMessage } from './errors.js';
import type { Phase } from './errors.js';
import { emptyOutcome, ms } from './types.js';
import type { ProbeOutcome } from './types.js';

export interface ProbeScaffoldOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** the phase a failure is attributed to until the probe moves it on */
  phase: Phase;
  /** releases the probe's sockets; runs once, when the probe settles */
  cleanup(out: ProbeOutcome): void;
  /** records what is known of the phases at the moment of a failure */
  onFail?(out: ProbeOutcome): void;
}

export interface ProbeRun {
  readonly out: ProbeOutcome;
  /** performance.now() when the probe started */
  readonly t0: number;
  readonly done: boolean;
  phase: Phase;
  /** Settles the probe with `out` as it is (response_time_ms = total_ms). */
  finish(): void;
  /** Settles the probe as failed, unless it has settled already. */
  fail(err: unknown, cls?: ErrorClass): void;
  /**
   * Arms the deadline and the abort signal, once the probe's sockets exist (so a synchronous throw while
   * creating them leaves nothing armed); fails the probe at once, returning true, when the signal is
   * already aborted.
   */
  start(): boolean;
}

export function probeScaffold(o: ProbeScaffoldOptions, resolve: (out: ProbeOutcome) => void): ProbeRun {
  const out = emptyOutcome();
  const t0 = performance.now();
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => run.fail(new Error('check aborted'), 'timeout');
  const run: ProbeRun = {
    out,
    t0,
    get done() {
      return done;
    },
    phase: o.phase,
    finish() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      o.cleanup(out);
      out.observation.response_time_ms = out.total_ms;
      resolve(out);
    },
    fail(err, cls = classifyError(err, run.phase)) {
      if (done) return;
      out.ok = false;
      out.error = errorMessage(err);
      out.error_class = cls;
      out.total_ms = ms(t0, performance.now());
      o.onFail?.(out);
      run.finish();
    },
    start() {
      timer = setTimeout(() => run.fail(new CheckTimeoutError(o.timeoutMs), 'timeout'), o.timeoutMs);
      o.signal?.addEventListener('abort', onAbort, { once: true });
      if (o.signal?.aborted !== true) return false;
      onAbort();
      return true;
    },
  };
  return run;
}
