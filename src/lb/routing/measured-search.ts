/**
 * `routing_distance: measured`: the distance term of a backend the request's region has measured
 * is `rttMs × rtt_km_per_ms`; a backend it has not measured keeps the haversine distance (or none
 * when either location is unknown).
 *
 * The indexed pick splits the fleet in two: backends with a fresh matrix entry for the region are
 * visited in the region's ascending-RTT order (latency-matrix.ts), stopping once the measured
 * distance alone exceeds the best full score; every other backend goes through the unlocated list
 * and the spatial index as before, which skip the measured ones. Pure: no I/O.
 */
import type { BackendState } from './backend-state.js';
import type { FleetIndex } from './fleet-index.js';
import { distanceKm, pruneChord2 } from './geo.js';
import type { GeoPoint } from './geo.js';
import type { RegionRow, RttEntry } from './latency-matrix.js';
import type { LocatedSearch } from './located-search.js';

export type DistanceSource = 'measured' | 'haversine' | 'none';

/** A backend's distance term for a request: measured when its region row has the backend. */
export function distanceFor(id: string, geo: GeoPoint | null, q: GeoPoint | null, row: RegionRow | null, kmPerMs: number): number | null {
  if (row !== null) {
    const e = row.byBackend.get(id);
    if (e !== undefined) return e.rttMs * kmPerMs;
  }
  return q !== null && geo !== null ? distanceKm(q, geo) : null;
}

/** What explain shows about one backend's distance term. */
export interface DistanceInfo {
  source: DistanceSource;
  /** The request's region (null: none named and none located). */
  region: string | null;
  /** Great-circle distance, km, when both locations are known (shown even when not used). */
  haversineKm: number | null;
  measuredRttMs: number | null;
  measuredAgeMs: number | null;
  measuredSamples: number | null;
}

export function distanceInfo(b: BackendState, q: GeoPoint | null, region: string | null, row: RegionRow | null, now: number): DistanceInfo {
  const e: RttEntry | undefined = row?.byBackend.get(b.id);
  const haversineKm = q !== null && b.geo !== null ? distanceKm(q, b.geo) : null;
  return {
    source: e !== undefined ? 'measured' : haversineKm !== null ? 'haversine' : 'none',
    region,
    haversineKm,
    measuredRttMs: e?.rttMs ?? null,
    measuredAgeMs: e === undefined ? null : now - e.updatedAt,
    measuredSamples: e?.samples ?? null,
  };
}

/** The running best of a pick (shared with the spatial visitor's result). */
export interface Best {
  best: BackendState | null;
  bestScore: number;
  bestD: number | null;
}

/**
 * Walks the region's measured backends nearest-first (by RTT) and improves `acc` in place:
 * lower score wins, ties go to the smaller id, as in every other path of the engine.
 */
export function walkMeasured(
  row: RegionRow<BackendState>,
  slot: number,
  kmPerMs: number,
  fits: (b: BackendState) => boolean,
  acc: Best,
): void {
  const order = row.order;
  for (let i = 0; i < order.length; i++) {
    const e = order[i]!;
    const d = e.rttMs * kmPerMs;
    if (d > acc.bestScore) return;
    const b = e.target;
    if (b.member[slot] !== 1) continue;
    const s = d + b.score[slot]!;
    if (s > acc.bestScore) continue;
    if (s === acc.bestScore && acc.best !== null && b.id >= acc.best.id) continue;
    if (!fits(b)) continue;
    acc.best = b;
    acc.bestScore = s;
    acc.bestD = d;
  }
}

/**
 * The measured-mode pick: the best unmeasured backend without a distance (`list`, in score order),
 * then the unmeasured located ones (spatial index), then the measured ones in RTT order.
 * Leaves the winner's score and distance in `v` (bestScore, bestD).
 */
export function pickMeasured(
  v: LocatedSearch,
  slot: number,
  q: GeoPoint | null,
  list: readonly BackendState[],
  row: RegionRow<BackendState>,
  index: FleetIndex,
  kmPerMs: number,
  fits: (b: BackendState) => boolean,
): BackendState | null {
  v.best = null;
  v.bestScore = Infinity;
  v.bestD = null;
  // Every backend measured: the unmeasured paths have nothing to find.
  const allMeasured = row.size >= index.fleet.size;
  for (let i = 0; !allMeasured && i < list.length; i++) {
    const b = list[i]!;
    if (row.byBackend.has(b.id) || !fits(b)) continue;
    v.best = b;
    v.bestScore = b.score[slot]!;
    break;
  }
  if (q !== null && !allMeasured) {
    v.slot = slot;
    v.q = q;
    v.skip = row;
    v.thr2 = pruneChord2(v.bestScore);
    index.kd.search(slot, q.x, q.y, q.z, v);
    v.skip = null;
    v.q = null;
  }
  walkMeasured(row, slot, kmPerMs, fits, v);
  const best = v.best;
  v.best = null;
  return best;
}
