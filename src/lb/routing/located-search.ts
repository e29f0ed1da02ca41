/**
 * The spatial half of a located pick: a k-d tree visitor that keeps the best candidate by full
 * score (distance plus the precomputed non-distance score), lowering the search threshold as
 * better ones turn up. `fits` applies the rest of the filter (reservations, staleness, exclusions).
 */
import type { BackendState } from './backend-state.js';
import { distanceKm, pruneChord2 } from './geo.js';
import type { GeoPoint } from './geo.js';
import type { KdVisitor } from './kdtree.js';
import type { RegionRow } from './latency-matrix.js';
import { totalScore } from './score.js';

/** The best located candidate during a spatial search (reused across requests). */
export class LocatedSearch implements KdVisitor<BackendState> {
  thr2 = Infinity;
  slot = 0;
  q: GeoPoint | null = null;
  best: BackendState | null = null;
  bestScore = Infinity;
  bestD: number | null = null;
  /** Measured mode: backends of this row have a measured distance and are searched apart (skipped here). */
  skip: RegionRow | null = null;

  constructor(private readonly fits: (b: BackendState) => boolean) {}

  visit(b: BackendState): void {
    if (b.member[this.slot] !== 1) return;
    if (this.skip !== null && this.skip.byBackend.has(b.id)) return;
    const q = this.q!;
    // Cheap chord test first: distance alone is a lower bound on the score.
    const dx = b.ux - q.x;
    const dy = b.uy - q.y;
    const dz = b.uz - q.z;
    if (dx * dx + dy * dy + dz * dz > this.thr2) return;
    const d = distanceKm(q, b.geo!);
    const s = totalScore(d, b.score[this.slot]!);
    if (s > this.bestScore) return;
    if (s === this.bestScore && this.best !== null && b.id >= this.best.id) return;
    if (!this.fits(b)) return;
    this.best = b;
    this.bestScore = s;
    this.bestD = d;
    this.thr2 = pruneChord2(s);
  }
}
