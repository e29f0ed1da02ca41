import { backgroundTimers, type Timers } from './timers.js';

export type { Timers };

export interface Periodic {
  /** Runs the task now (awaiting a run in progress first); used by tests and by `stop()`-free callers. */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs`, never overlapping itself: the next run is scheduled when the previous one ends.
 * Errors are passed to `onError` and do not stop the loop.
 */
export function periodic(
  task: () => Promise<void> | void,
  intervalMs: number,
  opts: { timers?: Timers; onError?: (err: unknown) => void; runAtStart?: boolean } = {},
): Periodic {
  const timers = opts.timers ?? backgroundTimers;
  let handle: unknown = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  const runOnce = async (): Promise<void> => {
    try {
      await task();
    } catch (err) {
      opts.onError?.(err);
    }
  };
  const run = (): Promise<void> => {
    if (running) return running;
    running = runOnce().finally(() => {
      running = null;
    });
    return running;
  };
  const schedule = (): void => {
    if (stopped) return;
    handle = timers.setTimeout(() => {
      handle = null;
      void run().then(schedule);
    }, intervalMs);
  };
  if (opts.runAtStart) void run().then(schedule);
  else schedule();

  return {
    async runNow() {
      if (running) await running;
      await run();
    },
    async stop() {
      stopped = true;
      if (handle !== null) timers.clearTimeout(handle);
      handle = null;
      if (running) await running;
    },
  };
}
