/**
 * Backends of one tier ordered by (precomputed non-distance score, clientId). The first entry that
 * passes the filter is the lowest-scoring eligible backend (ties broken by clientId), which is the
 * decision for a request without a location.
 *
 * Keys live on the items (`score[slot]`); the caller changes a key only through `move`.
 */

export interface Scored {
  readonly id: string;
  readonly score: Float64Array;
}

export function keyLess(sa: number, ia: string, sb: number, ib: string): boolean {
  return sa < sb || (sa === sb && ia < ib);
}

export class ScoreOrder<T extends Scored> {
  readonly items: T[] = [];

  constructor(private readonly slot: number) {}

  get length(): number {
    return this.items.length;
  }

  /** First index whose key is ≥ (score, id). */
  private lowerBound(score: number, id: string): number {
    const a = this.items;
    const s = this.slot;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = a[mid]!;
      if (keyLess(m.score[s]!, m.id, score, id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(x: T): number {
    const i = this.lowerBound(x.score[this.slot]!, x.id);
    if (this.items[i] !== x) throw new Error(`ScoreOrder: ${x.id} is not at its key position`);
    return i;
  }

  /** Inserts x with its current key. */
  insert(x: T): void {
    this.items.splice(this.lowerBound(x.score[this.slot]!, x.id), 0, x);
  }

  /** Removes x (which must be present with its current key). */
  remove(x: T): void {
    this.items.splice(this.indexOf(x), 1);
  }

  /**
   * Re-keys x (present with its current key) to `score`. Does NOT write x.score: the caller does
   * after re-keying every order x is in.
   */
  move(x: T, score: number): void {
    const a = this.items;
    const s = this.slot;
    const i = this.indexOf(x);
    const prev = i > 0 ? a[i - 1]! : null;
    const next = i + 1 < a.length ? a[i + 1]! : null;
    const afterPrev = prev === null || keyLess(prev.score[s]!, prev.id, score, x.id);
    const beforeNext = next === null || keyLess(score, x.id, next.score[s]!, next.id);
    if (afterPrev && beforeNext) return; // order unchanged
    a.splice(i, 1);
    a.splice(this.lowerBound(score, x.id), 0, x);
  }
}
