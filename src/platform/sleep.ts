import { realTimers, type Timers } from './timers.js';

export { realTimers, type Timers };

/** Waits `ms`; resolves early (never rejects) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal, timers: Timers = realTimers): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      resolve();
    };
    const handle = timers.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` every `intervalMs` on a fixed cadence (no drift, no overlap): the next run is
 * due one interval after the previous one was due; when a run overruns, missed runs are
 * skipped rather than bunched. The first run is immediate. Stops when `signal` aborts.
 */
export function every(
  intervalMs: number,
  fn: () => Promise<void>,
  signal: AbortSignal,
  now: () => number,
  timers: Timers = realTimers,
): Promise<void> {
  return (async () => {
    let due = now();
    while (!signal.aborted) {
      await fn();
      due += intervalMs;
      const t = now();
      if (due < t) due = t + intervalMs - ((t - due) % intervalMs);
      await sleep(due - t, signal, timers);
    }
  })();
}
