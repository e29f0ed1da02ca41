/**
 * Periodic work, in one place: `periodic` (a task every interval, never overlapping itself), `PeriodicTask`
 * (the same with an optional leader gate, and on-demand passes for tests and callers) and `every` (a fixed
 * cadence until an AbortSignal, for the agent's sampling and reporting loops). Timers are injected, so tests
 * drive them with fake timers instead of waiting.
 */
import { backgroundTimers, realTimers, type Timers } from './timers.js';

export interface Periodic {
  /** Runs the task now (awaiting a run in progress first); used by tests and by `stop()`-free callers. */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

export interface PeriodicOptions {
  timers?: Timers;
  onError?: (err: unknown) => void;
  runAtStart?: boolean;
  /**
   * With a clock: a fixed cadence, each run due one interval after the previous one was due (missed runs are
   * skipped, not bunched). Without: the next run is one interval after the previous one ended.
   */
  cadence?: { now: () => number };
}

/**
 * Runs `task` every `intervalMs`, never overlapping itself: the next run is scheduled when the previous one ends.
 * Errors are passed to `onError` and do not stop the loop.
 */
export function periodic(task: () => Promise<void> | void, intervalMs: number, opts: PeriodicOptions = {}): Periodic {
  const timers = opts.timers ?? backgroundTimers;
  const clock = opts.cadence?.now;
  let due = clock?.() ?? 0;
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
  const delay = (): number => {
    if (!clock) return intervalMs;
    due += intervalMs;
    const t = clock();
    if (due < t) due = t + intervalMs - ((t - due) % intervalMs);
    return due - t;
  };
  const schedule = (): void => {
    if (stopped) return;
    handle = timers.setTimeout(() => {
      handle = null;
      void run().then(schedule);
    }, delay());
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

/**
 * Whether a pass may run: a predicate, or a LeaderElector (only while this node leads). An elector with
 * `confirm` is asked again right before each pass (fencing: leadership lost a moment ago runs no further pass).
 */
export type Gate = (() => boolean) | { isLeader(): boolean; confirm?(): Promise<boolean> };

function gateOpen(gate: Gate | undefined): boolean {
  if (gate === undefined) return true;
  return typeof gate === 'function' ? gate() : gate.isLeader();
}

/**
 * A pass that runs every interval once started (see `periodic`: no overlap, `stop()` waits for the pass in
 * progress, errors go to `onError`), and on demand with `run()`. With a gate, a pass while the gate is closed
 * (this node is not the leader) does nothing and answers null.
 */
export class PeriodicTask<T> {
  private loop: Periodic | null = null;

  constructor(
    private readonly pass: () => Promise<T> | T,
    private readonly opts: { gate?: Gate; runAtStart?: boolean; onError?: (err: unknown) => void } = {},
  ) {}

  /** One pass now; null when the gate is closed. */
  async run(): Promise<T | null> {
    const gate = this.opts.gate;
    if (!gateOpen(gate)) return null;
    if (typeof gate === 'object' && gate.confirm && !(await gate.confirm())) return null;
    return this.pass();
  }

  /** Starts the loop (a second call while it runs does nothing). */
  start(intervalMs: number, timers?: Timers): void {
    this.loop ??= periodic(() => this.run().then(() => undefined), intervalMs, {
      timers,
      runAtStart: this.opts.runAtStart,
      onError: this.opts.onError,
    });
  }

  /** Stops the loop, waiting for a pass in progress. */
  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }
}

/**
 * Runs `fn` every `intervalMs` on a fixed cadence (no drift, no overlap): the next run is due one interval
 * after the previous one was due; when a run overruns, missed runs are skipped rather than bunched. The first
 * run is immediate. Resolves when `signal` aborts (after the run in progress); rejects, and stops, when a run
 * throws.
 */
export function every(
  intervalMs: number,
  fn: () => Promise<void>,
  signal: AbortSignal,
  now: () => number,
  timers: Timers = realTimers,
): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const loop = periodic(fn, intervalMs, {
      timers,
      runAtStart: true,
      cadence: { now },
      onError: (err) => {
        signal.removeEventListener('abort', onAbort);
        void loop.stop().then(() => reject(err));
      },
    });
    const onAbort = (): void => void loop.stop().then(resolve);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
