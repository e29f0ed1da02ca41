/**
 * Pure scheduling maths: when a monitor's next runs are due, and their deterministic jitter.
 * No I/O and no clock: callers pass `now`.
 *
 * Model: a monitor has a nominal cadence `next_due_at, next_due_at + interval, …`. Each nominal slot becomes one
 * run per region, scheduled at `slot + jitter(seed, slot)`. Jitter only ever delays a run (never earlier than
 * its slot) and is below one interval, so runs keep their order.
 */

/** Fraction of the interval used as jitter window: none at ≤ 10 s, 1 % for 10–30 s, 10 % above 30 s. */
export function jitterFraction(intervalMs: number): number {
  if (intervalMs <= 10_000) return 0;
  if (intervalMs <= 30_000) return 0.01;
  return 0.1;
}

/** A 32-bit hash of (seed, slot) mapped to [0, 1): deterministic, well mixed (murmur3 finaliser). */
export function hash01(seed: number, slot: number): number {
  const lo = slot % 0x1_0000_0000;
  const hi = Math.floor(slot / 0x1_0000_0000);
  let h = (seed | 0) ^ 0x9e3779b9;
  for (const part of [lo | 0, hi | 0]) {
    let k = Math.imul(part, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/** Jitter in whole ms for the run of nominal slot `slotAt`: in [0, fraction × interval). */
export function jitterMs(seed: number, intervalMs: number, slotAt: number): number {
  const window = jitterFraction(intervalMs) * intervalMs;
  if (window <= 0) return 0;
  return Math.floor(hash01(seed, slotAt) * window);
}

export interface SchedulableMonitor {
  interval_ms: number;
  jitter_seed: number;
  /** Next nominal slot; null = never scheduled (first run is due now). */
  next_due_at: number | null;
}

export interface RunPlan {
  /** Scheduled start times of the runs to create (each becomes one job per region). */
  runs: number[];
  /** The new `next_due_at`: the first nominal slot after the look-ahead horizon. */
  nextDueAt: number;
  /** True when the monitor was behind by more than one interval and got a single catch-up run. */
  catchUp: boolean;
}

/**
 * The runs to create for one monitor at `now` with a look-ahead of `lookaheadMs`.
 * - Every nominal slot ≤ now + lookahead yields one run (at slot + jitter).
 * - After downtime (the next slot is more than one interval in the past) there is exactly one catch-up run, at
 *   `now`, and the cadence restarts from it: missed slots are not replayed.
 */
export function planRuns(m: SchedulableMonitor, now: number, lookaheadMs: number): RunPlan {
  const interval = Math.max(1, Math.trunc(m.interval_ms));
  const horizon = now + Math.max(0, lookaheadMs);
  const runs: number[] = [];
  let slot = m.next_due_at ?? now;
  let catchUp = false;
  if (slot + interval <= now) {
    catchUp = true;
    runs.push(now);
    slot = now + interval;
  }
  while (slot <= horizon) {
    runs.push(slot + jitterMs(m.jitter_seed, interval, slot));
    slot += interval;
  }
  return { runs, nextDueAt: slot, catchUp };
}
