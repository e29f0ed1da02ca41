/**
 * A mergeable latency sketch with relative accuracy (the DDSketch idea, simplified to positive values):
 * a value x > MIN_VALUE lands in bucket i = ceil(log_γ x) with γ = (1 + α)/(1 − α), and is reported back as
 * 2γ^i/(γ + 1), which is within a factor (1 ± α) of every value in the bucket. Values ≤ MIN_VALUE share a
 * zero bucket reported as 0.
 *
 * Merging two sketches adds their bucket counts, so the merge of 1-minute sketches is exactly the sketch of
 * all their values: percentiles of any range are computed from the merge, never by averaging percentiles.
 *
 * Guarantee (tested): for q in [0, 1] with rank r = floor(q·(n − 1)) into the sorted values v,
 * |quantile(q) − v[r]| ≤ α · v[r] (values ≤ MIN_VALUE: quantile is 0).
 */
export const SKETCH_RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Values at or below this (ms) count as zero: 1 µs. */
export const MIN_VALUE = 0.001;
const ZERO_INDEX = -0x7fffffff;

export class LatencySketch {
  /** bucket index → count (ZERO_INDEX for the zero bucket). */
  readonly buckets = new Map<number, number>();
  count = 0;

  static indexOf(x: number): number {
    if (!(x > MIN_VALUE)) return ZERO_INDEX;
    return Math.ceil(Math.log(x) / LOG_GAMMA);
  }

  static valueOf(index: number): number {
    if (index === ZERO_INDEX) return 0;
    return (2 * Math.pow(GAMMA, index)) / (GAMMA + 1);
  }

  add(x: number, n = 1): this {
    if (!Number.isFinite(x) || n <= 0) return this;
    const i = LatencySketch.indexOf(x);
    this.buckets.set(i, (this.buckets.get(i) ?? 0) + n);
    this.count += n;
    return this;
  }

  merge(other: LatencySketch): this {
    for (const [i, c] of other.buckets) this.buckets.set(i, (this.buckets.get(i) ?? 0) + c);
    this.count += other.count;
    return this;
  }

  /**
   * The q-quantile (q in [0, 1]) by nearest rank: the value at rank ⌈q·n⌉ (1-based), so p99 of a few samples is
   * their maximum rather than a lower one; null when empty.
   */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const qq = Math.min(1, Math.max(0, q));
    const rank = Math.max(0, Math.ceil(qq * this.count) - 1);
    const keys = [...this.buckets.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const k of keys) {
      seen += this.buckets.get(k)!;
      if (seen > rank) return LatencySketch.valueOf(k);
    }
    return LatencySketch.valueOf(keys[keys.length - 1]!);
  }

  /**
   * Compact binary form: varint count of buckets, then per bucket (sorted) a zigzag varint index delta and a
   * varint count. A few bytes for the typical 1-minute bucket.
   */
  encode(): Buffer {
    const keys = [...this.buckets.keys()].sort((a, b) => a - b);
    const bytes: number[] = [];
    writeVarint(bytes, keys.length);
    let prev = 0;
    for (const k of keys) {
      writeVarint(bytes, zigzag(k - prev));
      writeVarint(bytes, this.buckets.get(k)!);
      prev = k;
    }
    return Buffer.from(bytes);
  }

  static decode(buf: Uint8Array | null | undefined): LatencySketch {
    const s = new LatencySketch();
    if (!buf || buf.length === 0) return s;
    const pos = { i: 0 };
    const n = readVarint(buf, pos);
    let prev = 0;
    for (let j = 0; j < n; j++) {
      const k = prev + unzigzag(readVarint(buf, pos));
      const c = readVarint(buf, pos);
      s.buckets.set(k, (s.buckets.get(k) ?? 0) + c);
      s.count += c;
      prev = k;
    }
    return s;
  }
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}
function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}
function writeVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}
function readVarint(buf: Uint8Array, pos: { i: number }): number {
  let result = 0;
  let mul = 1;
  for (;;) {
    if (pos.i >= buf.length) throw new Error('sketch: truncated varint');
    const b = buf[pos.i++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) return result;
    mul *= 0x80;
    if (mul > 2 ** 56) throw new Error('sketch: varint too long');
  }
}
