import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqIndex } from './seq-index.js';

describe('SeqIndex', () => {
  it('finds values by seq and forgets deleted ones', () => {
    const ix = new SeqIndex<string>();
    for (let s = 1; s <= 100; s++) ix.push(s, `v${s}`);
    expect(ix.size).toBe(100);
    expect(ix.get(1)).toBe('v1');
    expect(ix.get(100)).toBe('v100');
    expect(ix.get(0)).toBeUndefined();
    expect(ix.get(101)).toBeUndefined();
    expect(ix.delete(50)).toBe(true);
    expect(ix.delete(50)).toBe(false);
    expect(ix.get(50)).toBeUndefined();
    expect(ix.size).toBe(99);
  });

  it('refuses a seq out of order', () => {
    const ix = new SeqIndex<number>();
    ix.push(7, 7);
    expect(() => ix.push(9, 9)).toThrow(/out of order/);
    expect(() => ix.push(7, 7)).toThrow(/out of order/);
    ix.push(8, 8);
    expect(ix.get(8)).toBe(8);
  });

  it('keeps a pinned value findable while the values around it come and go', () => {
    const ix = new SeqIndex<number>();
    for (let s = 1; s <= 10; s++) ix.push(s, s);
    ix.pin(5); // now a hole inside the ring, behind live 1..4
    expect(ix.get(5)).toBe(5);
    for (let s = 1; s <= 4; s++) ix.delete(s);
    expect(ix.get(5)).toBe(5);
    for (let s = 11; s <= 5000; s++) ix.push(s, s);
    for (let s = 6; s <= 5000; s++) ix.delete(s);
    expect(ix.size).toBe(1);
    expect(ix.get(5)).toBe(5);
    ix.pin(5); // already pinned: no change
    expect(ix.delete(5)).toBe(true);
    expect(ix.size).toBe(0);
    expect(ix.get(5)).toBeUndefined();
  });

  it('holds memory for the live window, not for every seq ever pushed', () => {
    const ix = new SeqIndex<number>();
    const ring = (): number => (ix as unknown as { buf: unknown[] }).buf.length;
    // A sliding window of 1 000 live values over 1 000 000 seqs, with one value pinned from the start.
    ix.push(1, 1);
    ix.pin(1);
    for (let s = 2; s <= 1_000_000; s++) {
      ix.push(s, s);
      if (s > 1001) ix.delete(s - 1000);
    }
    expect(ix.size).toBe(1001);
    expect(ring()).toBeLessThanOrEqual(2048);
    for (let s = 999_001; s <= 1_000_000; s++) ix.delete(s);
    expect(ix.size).toBe(1);
    expect(ix.get(1)).toBe(1);
  });

  it('grows and shrinks across the 2^32 boundary of seq numbers', () => {
    const ix = new SeqIndex<number>();
    const start = 2 ** 32 - 3000;
    for (let s = start; s < start + 6000; s++) ix.push(s, s);
    for (let s = start; s < start + 6000; s++) expect(ix.get(s)).toBe(s);
    for (let s = start; s < start + 5990; s++) ix.delete(s);
    for (let s = start + 5990; s < start + 6000; s++) expect(ix.get(s)).toBe(s);
    expect(ix.size).toBe(10);
  });

  it('behaves like a Map under any sequence of push, delete and pin', () => {
    type Op = { k: 'push' } | { k: 'delete'; back: number } | { k: 'pin'; back: number } | { k: 'drain' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.constant({ k: 'push' as const }) },
      { weight: 4, arbitrary: fc.record({ k: fc.constant('delete' as const), back: fc.nat(40) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('pin' as const), back: fc.nat(40) }) },
      { weight: 1, arbitrary: fc.constant({ k: 'drain' as const }) },
    );
    fc.assert(
      fc.property(fc.nat(1000), fc.array(op, { maxLength: 400 }), (first, ops) => {
        const ix = new SeqIndex<number>();
        const model = new Map<number, number>();
        let next = first + 1;
        for (const o of ops) {
          if (o.k === 'push') {
            ix.push(next, next * 2);
            model.set(next, next * 2);
            next++;
          } else if (o.k === 'delete') {
            const s = next - 1 - o.back;
            expect(ix.delete(s)).toBe(model.delete(s));
          } else if (o.k === 'pin') {
            ix.pin(next - 1 - o.back);
          } else {
            // Everything leaves (the ring empties and restarts at the next seq).
            for (const s of [...model.keys()]) expect(ix.delete(s)).toBe(model.delete(s));
          }
          expect(ix.size).toBe(model.size);
        }
        for (let s = first - 5; s < next + 5; s++) expect(ix.get(s)).toBe(model.get(s));
      }),
      { numRuns: 300 },
    );
  });
});
