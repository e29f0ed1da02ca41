import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingWindow } from '../../src/agent/metrics/window.js';

const m = (entries: Record<string, number | null>): Map<string, number | null> => new Map(Object.entries(entries));

describe('SlidingWindow', () => {
  it('averages the samples inside the window and evicts older ones by time', () => {
    const w = new SlidingWindow({ windowMs: 10_000, intervalMs: 1000 });
    let t = 0;
    for (let i = 1; i <= 10; i++) w.push((t += 1000), m({ a: i }));
    expect(w.average('a', t)).toBeCloseTo(5.5); // 1..10
    w.push((t += 1000), m({ a: 11 })); // t=11000: sample at t=1000 falls out
    expect(w.length).toBe(10);
    expect(w.average('a', t)).toBeCloseTo(6.5); // 2..11
    // Time passes with no samples (agent paused): everything expires.
    expect(w.average('a', t + 10_000)).toBeNull();
    expect(w.length).toBe(0);
  });

  it('leaves unknown values out of both sum and count', () => {
    const w = new SlidingWindow({ windowMs: 60_000, intervalMs: 1000 });
    w.push(1000, m({ a: 10, b: null }));
    w.push(2000, m({ a: null, b: null }));
    w.push(3000, m({ a: 30 }));
    w.push(4000, m({ a: Number.NaN }));
    expect(w.average('a', 4000)).toBe(20);
    expect(w.count('a', 4000)).toBe(2);
    expect(w.average('b', 4000)).toBeNull();
    expect(w.average('never', 4000)).toBeNull();
  });

  it('keeps memory per slot fixed: overwrites the oldest slot when full', () => {
    const w = new SlidingWindow({ windowMs: 5000, intervalMs: 1000 });
    expect(w.capacity).toBe(7);
    // Samples arriving faster than the interval fill the ring before they expire by time.
    for (let i = 0; i < 100; i++) w.push(i, m({ a: i }));
    expect(w.length).toBe(7);
    expect(w.average('a', 99)).toBeCloseTo((93 + 99) / 2);
  });

  it('drops a series (e.g. an unplugged core) once its last known value leaves the window', () => {
    const w = new SlidingWindow({ windowMs: 3000, intervalMs: 1000 });
    w.push(1000, m({ 'cpu:0': 10, 'cpu:2': 50 }));
    w.push(2000, m({ 'cpu:0': 20 }));
    expect(w.average('cpu:2', 2000)).toBe(50);
    w.push(4000, m({ 'cpu:0': 30, 'cpu:4': 70 }));
    expect(w.average('cpu:2', 4000)).toBeNull();
    expect(w.keys().sort()).toEqual(['cpu:0', 'cpu:4']);
    expect(w.average('cpu:0', 4000)).toBe(25);
  });

  it('rejects a zero window or interval', () => {
    expect(() => new SlidingWindow({ windowMs: 0, intervalMs: 1000 })).toThrow(RangeError);
    expect(() => new SlidingWindow({ windowMs: 1000, intervalMs: 0 })).toThrow(RangeError);
  });

  it('matches a naive recomputation for any sequence of samples (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dt: fc.integer({ min: 0, max: 2500 }),
            v: fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: null }),
          }),
          { maxLength: 300 },
        ),
        (steps) => {
          const windowMs = 10_000;
          const w = new SlidingWindow({ windowMs, intervalMs: 1000 });
          const log: Array<{ t: number; v: number | null }> = [];
          let t = 0;
          for (const s of steps) {
            t += s.dt;
            w.push(t, m({ x: s.v }));
            log.push({ t, v: s.v });
            // Naive: the last `capacity` samples that are newer than t - window.
            const live = log.slice(-w.capacity).filter((e) => e.t > t - windowMs && e.v !== null);
            const expected = live.length === 0 ? null : live.reduce((a, e) => a + (e.v ?? 0), 0) / live.length;
            const got = w.average('x', t);
            if (expected === null) expect(got).toBeNull();
            else expect(got).toBeCloseTo(expected, 6);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
