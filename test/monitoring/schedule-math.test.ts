import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hash01, jitterFraction, jitterMs, planRuns } from '../../src/monitoring/domain/schedule-math.js';

describe('jitterFraction', () => {
  it('is 0 up to 10 s, 1 % up to 30 s, 10 % above', () => {
    expect(jitterFraction(1_000)).toBe(0);
    expect(jitterFraction(10_000)).toBe(0);
    expect(jitterFraction(10_001)).toBe(0.01);
    expect(jitterFraction(30_000)).toBe(0.01);
    expect(jitterFraction(30_001)).toBe(0.1);
    expect(jitterFraction(3_600_000)).toBe(0.1);
  });
});

describe('jitterMs', () => {
  it('stays within [0, fraction × interval) for any seed and slot', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 1, max: 86_400_000 }), fc.integer({ min: 0, max: 4e12 }), (seed, interval, slot) => {
        const j = jitterMs(seed, interval, slot);
        expect(Number.isInteger(j)).toBe(true);
        expect(j).toBeGreaterThanOrEqual(0);
        if (interval <= 10_000) expect(j).toBe(0);
        else expect(j).toBeLessThan(Math.max(1, jitterFraction(interval) * interval));
      }),
    );
  });

  it('is deterministic per (seed, slot) and differs between seeds', () => {
    expect(jitterMs(42, 60_000, 1_700_000_000_000)).toBe(jitterMs(42, 60_000, 1_700_000_000_000));
    const values = new Set<number>();
    for (let seed = 0; seed < 200; seed++) values.add(jitterMs(seed, 60_000, 1_700_000_000_000));
    // 200 seeds over a 6 000 ms window: nearly all distinct.
    expect(values.size).toBeGreaterThan(180);
  });

  it('spreads uniformly over the window (no clumping)', () => {
    const bins = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 10_000; seed++) bins[Math.floor(hash01(seed, 123_456_789) * 10)]!++;
    for (const b of bins) expect(b).toBeGreaterThan(850);
  });
});

describe('planRuns', () => {
  const now = 1_700_000_000_000;

  it('creates one run per nominal slot inside the look-ahead and advances next_due_at past it', () => {
    const p = planRuns({ interval_ms: 2_000, jitter_seed: 1, next_due_at: now }, now, 5_000);
    expect(p.runs).toEqual([now, now + 2_000, now + 4_000]);
    expect(p.nextDueAt).toBe(now + 6_000);
    expect(p.catchUp).toBe(false);
  });

  it('creates nothing for a slot beyond the look-ahead', () => {
    const p = planRuns({ interval_ms: 30_000, jitter_seed: 1, next_due_at: now + 5_001 }, now, 5_000);
    expect(p.runs).toEqual([]);
    expect(p.nextDueAt).toBe(now + 5_001);
  });

  it('jitters runs after their slot, deterministically', () => {
    const m = { interval_ms: 60_000, jitter_seed: 777, next_due_at: now + 1_000 };
    const a = planRuns(m, now, 5_000);
    const b = planRuns(m, now, 5_000);
    expect(a).toEqual(b);
    expect(a.runs).toHaveLength(1);
    expect(a.runs[0]!).toBeGreaterThanOrEqual(now + 1_000);
    expect(a.runs[0]!).toBeLessThan(now + 1_000 + 6_000);
    expect(a.runs[0]).toBe(now + 1_000 + jitterMs(777, 60_000, now + 1_000));
  });

  it('a fresh monitor (next_due_at null) runs now', () => {
    const p = planRuns({ interval_ms: 5_000, jitter_seed: 3, next_due_at: null }, now, 0);
    expect(p.runs).toEqual([now]);
    expect(p.nextDueAt).toBe(now + 5_000);
  });

  it('after downtime creates exactly one catch-up run and restarts the cadence from it', () => {
    const p = planRuns({ interval_ms: 10_000, jitter_seed: 3, next_due_at: now - 3_600_000 }, now, 5_000);
    expect(p.catchUp).toBe(true);
    expect(p.runs).toEqual([now]);
    expect(p.nextDueAt).toBe(now + 10_000);
  });

  it('a slot less than one interval late is run as is (no catch-up)', () => {
    const p = planRuns({ interval_ms: 10_000, jitter_seed: 3, next_due_at: now - 9_999 }, now, 0);
    expect(p.catchUp).toBe(false);
    expect(p.runs).toEqual([now - 9_999]);
  });

  it('fake clock, ticks within the look-ahead: every nominal slot yields exactly one run, none skipped or repeated', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 120_000 }),
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 200 }),
        (interval, seed, steps) => {
          let t = now;
          let next: number | null = null;
          const runs: number[] = [];
          for (const dt of steps) {
            const p = planRuns({ interval_ms: interval, jitter_seed: seed, next_due_at: next }, t, 5_000);
            expect(p.catchUp).toBe(false);
            runs.push(...p.runs);
            next = p.nextDueAt;
            t += dt;
          }
          // Runs are exactly slot k = now + k·interval plus that slot's jitter, for k = 0, 1, 2, … without gaps.
          runs.forEach((r, k) => {
            const slot = now + k * interval;
            expect(r).toBe(slot + jitterMs(seed, interval, slot));
          });
          // …and every slot up to the last tick's horizon is covered.
          expect(now + runs.length * interval).toBeGreaterThan(t - steps[steps.length - 1]! + 5_000);
        },
      ),
    );
  });

  it('fake clock with arbitrary gaps: runs are unique and increasing, and each tick adds at most one catch-up', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 120_000 }),
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.array(fc.integer({ min: 1, max: 400_000 }), { minLength: 1, maxLength: 60 }),
        (interval, seed, steps) => {
          let t = now;
          let next: number | null = null;
          const runs: number[] = [];
          for (const dt of steps) {
            t += dt;
            const p = planRuns({ interval_ms: interval, jitter_seed: seed, next_due_at: next }, t, 5_000);
            if (p.catchUp) {
              expect(p.runs[0]).toBe(t);
              // after the catch-up only regular slots inside the look-ahead
              expect(p.runs.length).toBeLessThanOrEqual(1 + Math.floor(5_000 / interval));
            } else {
              expect(p.runs.length).toBeLessThanOrEqual(Math.ceil((5_000 + interval) / interval));
            }
            runs.push(...p.runs);
            expect(p.nextDueAt).toBeGreaterThan(t + 5_000);
            next = p.nextDueAt;
          }
          expect(new Set(runs).size).toBe(runs.length);
          for (let i = 1; i < runs.length; i++) expect(runs[i]!).toBeGreaterThan(runs[i - 1]!);
        },
      ),
    );
  });
});
