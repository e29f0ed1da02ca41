import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LatencySketch, SKETCH_RELATIVE_ACCURACY } from '../../src/monitoring/domain/sketch.js';

/** Nearest-rank quantile of sorted raw data: the value at rank ⌈q·n⌉ (1-based). */
function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('LatencySketch', () => {
  it('uses nearest rank: the p95/p99 of a few samples is the slowest one, the median the middle one', () => {
    const s = new LatencySketch();
    for (const v of [5.4, 2.364, 2.768]) s.add(v);
    const near = (got: number | null, want: number) => expect(Math.abs(got! - want) / want).toBeLessThanOrEqual(SKETCH_RELATIVE_ACCURACY);
    near(s.quantile(0.5), 2.768);
    near(s.quantile(0.95), 5.4);
    near(s.quantile(0.99), 5.4);
    near(s.quantile(0), 2.364);
  });

  it('is empty at first', () => {
    const s = new LatencySketch();
    expect(s.quantile(0.5)).toBeNull();
    expect(LatencySketch.decode(s.encode()).count).toBe(0);
    expect(LatencySketch.decode(Buffer.alloc(0)).count).toBe(0);
  });

  it('answers every quantile within the stated relative error', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.01, max: 600_000, noNaN: true }), { minLength: 1, maxLength: 500 }), fc.double({ min: 0, max: 1, noNaN: true }), (values, q) => {
        const s = new LatencySketch();
        for (const v of values) s.add(v);
        const sorted = [...values].sort((a, b) => a - b);
        const exact = exactQuantile(sorted, q);
        expect(Math.abs(s.quantile(q)! - exact)).toBeLessThanOrEqual(exact * SKETCH_RELATIVE_ACCURACY * (1 + 1e-9));
      }),
    );
  });

  it('round-trips through its binary encoding', () => {
    const s = new LatencySketch();
    for (const v of [0, 0.0001, 1, 1, 2.5, 100, 99_999]) s.add(v);
    const d = LatencySketch.decode(s.encode());
    expect(d.count).toBe(7);
    expect([...d.buckets.entries()].sort()).toEqual([...s.buckets.entries()].sort());
    expect(d.quantile(0)).toBe(0);
  });

  it('ignores non-finite values and rejects truncated input', () => {
    const s = new LatencySketch().add(Number.NaN).add(Number.POSITIVE_INFINITY);
    expect(s.count).toBe(0);
    const enc = new LatencySketch().add(5).add(500).encode();
    expect(() => LatencySketch.decode(enc.subarray(0, enc.length - 1))).toThrow(/truncated/);
  });

  it('merging sketches equals the sketch of all values', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: 0.01, max: 10_000, noNaN: true }), { maxLength: 50 }), { minLength: 1, maxLength: 10 }), (parts) => {
        const merged = new LatencySketch();
        const all = new LatencySketch();
        for (const part of parts) {
          const s = new LatencySketch();
          for (const v of part) {
            s.add(v);
            all.add(v);
          }
          merged.merge(LatencySketch.decode(s.encode()));
        }
        expect(merged.count).toBe(all.count);
        for (const q of [0, 0.5, 0.95, 0.99, 1]) expect(merged.quantile(q)).toBe(all.quantile(q));
      }),
    );
  });
});
