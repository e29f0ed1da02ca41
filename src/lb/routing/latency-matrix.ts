/**
 * The region × backend latency matrix: per (region, backend) an EWMA of the round-trip time the
 * region's workers measured with the backend probes, with the sample count and the time of the
 * last sample. An entry older than `expireAfterMs` (3 probe intervals) is unknown: `sweep` drops
 * it, and the engine sweeps before every decision, so a present entry is a fresh one.
 *
 * Per region the entries are also kept in ascending (rttMs, backend id) order: the measured-mode
 * search walks that order and stops once the measured distance alone exceeds the best full score
 * (every other score term is ≥ 0), as the spatial index does for haversine distances.
 * Pure: no I/O, times are passed in.
 */

/** EWMA smoothing factor for probe round trips (the first sample is taken as is). */
export const RTT_EWMA_ALPHA = 0.3;
/** An entry is unknown once its last sample is older than this many probe intervals. */
export const RTT_EXPIRY_INTERVALS = 3;

export interface RttEntry<T = unknown> {
  readonly region: string;
  readonly backendId: string;
  /** The caller's object for the backend (the engine's state), so a walk of the order needs no lookup. */
  target: T;
  /** EWMA of the round trip, ms. */
  rttMs: number;
  samples: number;
  /** Time of the last sample (ms epoch). */
  updatedAt: number;
}

/** One region's row of the matrix. */
export class RegionRow<T = unknown> {
  readonly byBackend = new Map<string, RttEntry<T>>();
  /** Ascending by (rttMs, backendId). */
  readonly order: RttEntry<T>[] = [];

  constructor(readonly region: string) {}

  get size(): number {
    return this.order.length;
  }

  private lowerBound(rtt: number, id: string): number {
    const a = this.order;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = a[mid]!;
      if (m.rttMs < rtt || (m.rttMs === rtt && m.backendId < id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(e: RttEntry<T>): void {
    this.order.splice(this.lowerBound(e.rttMs, e.backendId), 0, e);
    this.byBackend.set(e.backendId, e);
  }

  remove(e: RttEntry<T>): void {
    const i = this.lowerBound(e.rttMs, e.backendId);
    if (this.order[i] === e) this.order.splice(i, 1);
    this.byBackend.delete(e.backendId);
  }
}

/** A matrix entry as /clients, /latency and /metrics show it. */
export interface RttView {
  region: string;
  backendId: string;
  rttMs: number;
  samples: number;
  ageMs: number;
}

export class LatencyMatrix<T = unknown> {
  private readonly rows = new Map<string, RegionRow<T>>();
  private nextExpiry = Infinity;

  constructor(
    private expireAfterMs: number,
    private readonly alpha = RTT_EWMA_ALPHA,
  ) {}

  /** Changes the probe interval the expiry follows (RTT_EXPIRY_INTERVALS × intervalMs). */
  setProbeInterval(intervalMs: number, now: number): void {
    this.expireAfterMs = RTT_EXPIRY_INTERVALS * intervalMs;
    this.recomputeExpiry();
    this.sweep(now);
  }

  static forInterval<T = unknown>(intervalMs: number): LatencyMatrix<T> {
    return new LatencyMatrix<T>(RTT_EXPIRY_INTERVALS * intervalMs);
  }

  /** Feeds one round-trip sample. false (ignored) for a negative or non-finite value. */
  record(region: string, backendId: string, rttMs: number, now: number, target: T): boolean {
    if (!Number.isFinite(rttMs) || rttMs < 0 || region === '' || backendId === '') return false;
    this.sweep(now);
    let row = this.rows.get(region);
    if (row === undefined) {
      row = new RegionRow<T>(region);
      this.rows.set(region, row);
    }
    const old = row.byBackend.get(backendId);
    if (old === undefined) {
      row.insert({ region, backendId, target, rttMs, samples: 1, updatedAt: now });
    } else {
      row.remove(old);
      old.rttMs = this.alpha * rttMs + (1 - this.alpha) * old.rttMs;
      old.samples++;
      old.updatedAt = now;
      old.target = target;
      row.insert(old);
    }
    this.nextExpiry = Math.min(this.nextExpiry, now + this.expireAfterMs);
    return true;
  }

  /** Drops entries older than the expiry; cheap when nothing is due. */
  sweep(now: number): void {
    if (now <= this.nextExpiry) return;
    const cutoff = now - this.expireAfterMs;
    for (const [name, row] of this.rows) {
      for (const e of [...row.order]) if (e.updatedAt < cutoff) row.remove(e);
      if (row.size === 0) this.rows.delete(name);
    }
    this.recomputeExpiry();
  }

  private recomputeExpiry(): void {
    let min = Infinity;
    for (const row of this.rows.values()) for (const e of row.order) min = Math.min(min, e.updatedAt);
    this.nextExpiry = min + this.expireAfterMs;
  }

  /** The fresh row of a region (after `sweep(now)`), or undefined when it measured nothing. */
  row(region: string): RegionRow<T> | undefined {
    return this.rows.get(region);
  }

  /** The fresh entry for (region, backend), or null when unknown or expired. */
  get(region: string, backendId: string, now: number): RttEntry<T> | null {
    this.sweep(now);
    return this.rows.get(region)?.byBackend.get(backendId) ?? null;
  }

  /** Forgets a backend in every region (it was removed). */
  removeBackend(backendId: string): void {
    for (const [name, row] of this.rows) {
      const e = row.byBackend.get(backendId);
      if (e !== undefined) row.remove(e);
      if (row.size === 0) this.rows.delete(name);
    }
  }

  /** Every fresh entry, ordered by (region, backend id). */
  entries(now: number): RttView[] {
    this.sweep(now);
    const out: RttView[] = [];
    for (const name of [...this.rows.keys()].sort()) {
      const row = this.rows.get(name)!;
      for (const id of [...row.byBackend.keys()].sort()) {
        const e = row.byBackend.get(id)!;
        out.push({ region: name, backendId: id, rttMs: e.rttMs, samples: e.samples, ageMs: now - e.updatedAt });
      }
    }
    return out;
  }
}
