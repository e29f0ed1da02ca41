/**
 * A time-based sliding window of samples with running sums.
 *
 * Storage is a ring of `capacity` slots; each slot holds a timestamp and one float per
 * series (a series is a named figure such as `cpu:3` or `gpu:0:util`), so memory per slot
 * is constant and does not grow with the window length. Pushing and averaging are O(series):
 * evicting a slot subtracts its values from running sums. Unknown values (`null`/NaN) are
 * stored as NaN and left out of both the sum and the count, so an average is over the
 * known samples only and `null` when there are none.
 */
export interface WindowOptions {
  /** Window length in ms: samples older than `now - windowMs` are evicted. */
  windowMs: number;
  /** Expected sample period in ms; sets the ring capacity (window / interval, plus slack). */
  intervalMs: number;
}

interface Series {
  values: Float64Array;
  sum: number;
  count: number;
}

export class SlidingWindow {
  readonly capacity: number;
  private readonly windowMs: number;
  private readonly times: Float64Array;
  private readonly series = new Map<string, Series>();
  /** Index of the oldest live slot and number of live slots. */
  private tail = 0;
  private size = 0;
  private pushesSinceResum = 0;

  constructor(opts: WindowOptions) {
    if (!(opts.windowMs > 0) || !(opts.intervalMs > 0)) throw new RangeError('windowMs and intervalMs must be > 0');
    this.windowMs = opts.windowMs;
    this.capacity = Math.ceil(opts.windowMs / opts.intervalMs) + 2;
    this.times = new Float64Array(this.capacity);
  }

  /** Number of live samples. */
  get length(): number {
    return this.size;
  }

  /** Series names currently tracked. */
  keys(): string[] {
    return [...this.series.keys()];
  }

  private seriesFor(key: string): Series {
    let s = this.series.get(key);
    if (s === undefined) {
      s = { values: new Float64Array(this.capacity).fill(Number.NaN), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  private evictOldest(): void {
    const slot = this.tail;
    for (const s of this.series.values()) {
      const v = s.values[slot] ?? Number.NaN;
      if (!Number.isNaN(v)) {
        s.sum -= v;
        s.count -= 1;
      }
      s.values[slot] = Number.NaN;
    }
    this.tail = (this.tail + 1) % this.capacity;
    this.size -= 1;
  }

  /** Drops samples at or before `now - windowMs`, and series with no known sample left. */
  evict(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.size > 0 && (this.times[this.tail] ?? 0) <= cutoff) this.evictOldest();
    for (const [key, s] of this.series) if (s.count === 0) this.series.delete(key);
  }

  /**
   * Adds one sample taken at time `t` (ms). Series absent from `values` get an unknown
   * value in this slot. Samples must be pushed in non-decreasing time order.
   */
  push(t: number, values: ReadonlyMap<string, number | null>): void {
    this.evict(t);
    if (this.size === this.capacity) this.evictOldest();
    const slot = (this.tail + this.size) % this.capacity;
    this.times[slot] = t;
    this.size += 1;
    for (const [key, v] of values) {
      if (v === null || !Number.isFinite(v)) continue;
      const s = this.seriesFor(key);
      s.values[slot] = v;
      s.sum += v;
      s.count += 1;
    }
    // Slots of series not present in this sample are already NaN (cleared at eviction or creation).
    if (++this.pushesSinceResum >= this.capacity) this.resum();
  }

  /** Recomputes running sums from the stored values, bounding floating-point drift (amortised O(1) per push). */
  private resum(): void {
    this.pushesSinceResum = 0;
    for (const s of this.series.values()) {
      let sum = 0;
      let count = 0;
      for (let i = 0; i < this.size; i++) {
        const v = s.values[(this.tail + i) % this.capacity] ?? Number.NaN;
        if (!Number.isNaN(v)) {
          sum += v;
          count += 1;
        }
      }
      s.sum = sum;
      s.count = count;
    }
  }

  /** Mean of the known values of `key` in the window ending at `now`; `null` when none. */
  average(key: string, now: number): number | null {
    this.evict(now);
    const s = this.series.get(key);
    if (s === undefined || s.count === 0) return null;
    return s.sum / s.count;
  }

  /** Number of known values of `key` in the window. */
  count(key: string, now: number): number {
    this.evict(now);
    return this.series.get(key)?.count ?? 0;
  }
}
