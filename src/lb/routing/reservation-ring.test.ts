import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyPending, type PendingState } from './filter.js';
import { CHUNK, ReservationRing } from './reservation-ring.js';

/** A ring whose debits are recorded per PendingState (count, vcpu, mem, disk returned). */
function ringWithLedger() {
  const returned = new Map<PendingState, { n: number; vcpu: number; mem: number; disk: number }>();
  const ring = new ReservationRing((p, vcpu, mem, disk) => {
    const r = returned.get(p) ?? { n: 0, vcpu: 0, mem: 0, disk: 0 };
    r.n++;
    r.vcpu += vcpu;
    r.mem += mem;
    r.disk += disk;
    returned.set(p, r);
  });
  return { ring, returned };
}

describe('ReservationRing', () => {
  it('keeps rows by seq and gives back what a removed row held', () => {
    const { ring, returned } = ringWithLedger();
    const p = emptyPending();
    for (let s = 1; s <= 100; s++) ring.push(s, `c${s % 3}`, 'small', p, 1, s, 0.5, s * 10, s * 10 + 1000);
    expect(ring.size).toBe(100);
    expect(ring.get(42)).toEqual({ seq: 42, clientId: 'c0', tier: 'small', pending: p, vcpu: 1, mem: 42, disk: 0.5, createdAt: 420, expiresAt: 1420 });
    expect(ring.get(0)).toBeUndefined();
    expect(ring.get(101)).toBeUndefined();
    expect(ring.delete(50)).toBe(true);
    expect(ring.delete(50)).toBe(false);
    expect(ring.get(50)).toBeUndefined();
    expect(ring.size).toBe(99);
    expect(returned.get(p)).toEqual({ n: 1, vcpu: 1, mem: 50, disk: 0.5 });
  });

  it('refuses a seq at or below one already pushed', () => {
    const { ring } = ringWithLedger();
    const p = emptyPending();
    ring.push(7, 'a', 't', p, 0, 0, 0, 0, 1);
    expect(() => ring.push(7, 'a', 't', p, 0, 0, 0, 0, 1)).toThrow(/out of order/);
    expect(() => ring.push(3, 'a', 't', p, 0, 0, 0, 0, 1)).toThrow(/out of order/);
    ring.push(8, 'a', 't', p, 0, 0, 0, 0, 1);
    expect(ring.get(8) !== undefined).toBe(true);
  });

  it('expires from the front, inclusively, skipping rows released before', () => {
    const { ring, returned } = ringWithLedger();
    const p = emptyPending();
    for (let s = 1; s <= 10; s++) ring.push(s, 'a', 't', p, 1, 0, 0, s, s + 100);
    expect(ring.headExpiry()).toBe(101);
    ring.delete(1);
    ring.delete(2);
    expect(ring.headExpiry()).toBe(103);
    expect(ring.sweep(102)).toBe(0);
    expect(ring.sweep(105)).toBe(3); // 3, 4, 5
    expect(ring.headExpiry()).toBe(106);
    ring.delete(7);
    expect(ring.sweep(108)).toBe(2); // 6, 8
    expect(ring.sweep(1e9)).toBe(2); // 9, 10
    expect(ring.size).toBe(0);
    expect(ring.headExpiry()).toBe(Infinity);
    expect(returned.get(p)?.n).toBe(10);
  });

  it('drops the rows of one backend, or all', () => {
    const { ring, returned } = ringWithLedger();
    const a = emptyPending();
    const b = emptyPending();
    for (let s = 1; s <= 3 * CHUNK; s++) ring.push(s, s % 2 ? 'a' : 'b', 't', s % 2 ? a : b, 1, 0, 0, s, s + 10);
    expect(ring.clear(a)).toBe((3 * CHUNK) / 2);
    expect(ring.size).toBe((3 * CHUNK) / 2);
    expect(ring.list().every((r) => r.pending === b && r.seq % 2 === 0)).toBe(true);
    expect(ring.headExpiry()).toBe(12); // seq 2
    expect(ring.clear()).toBe((3 * CHUNK) / 2);
    expect(ring.size).toBe(0);
    expect(returned.get(a)?.n).toBe((3 * CHUNK) / 2);
    expect(returned.get(b)?.n).toBe((3 * CHUNK) / 2);
  });

  it('holds memory for the live window, not for every seq ever pushed', () => {
    const { ring } = ringWithLedger();
    const p = emptyPending();
    // A sliding window of 1 000 live rows over 1 000 000 seqs, expiring and released in turns.
    for (let s = 1; s <= 1_000_000; s++) {
      ring.push(s, 'a', 't', p, 0, 0, 0, s, s + 1000);
      if (s % 2 === 0) ring.sweep(s);
      else if (s > 1000) ring.delete(s - 999);
    }
    expect(ring.size).toBeLessThanOrEqual(1001);
    expect(ring.capacity).toBeLessThanOrEqual(2 * CHUNK);
    // Emptied, it restarts at the next seq.
    ring.sweep(Infinity);
    expect(ring.size).toBe(0);
    ring.push(2_000_000, 'a', 't', p, 0, 0, 0, 0, 1);
    expect(ring.capacity).toBe(CHUNK);
    expect(ring.get(2_000_000) !== undefined).toBe(true);
  });

  it('behaves like a Map under any sequence of push, delete, sweep and clear', () => {
    type Op = { k: 'push'; n: number } | { k: 'delete'; back: number } | { k: 'sweep'; dt: number } | { k: 'clear'; which: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ k: fc.constant('push' as const), n: fc.integer({ min: 1, max: 3000 }) }) },
      { weight: 4, arbitrary: fc.record({ k: fc.constant('delete' as const), back: fc.nat(5000) }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('sweep' as const), dt: fc.nat(3000) }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('clear' as const), which: fc.integer({ min: -1, max: 1 }) }) },
    );
    fc.assert(
      fc.property(fc.nat(2 ** 40), fc.array(op, { maxLength: 60 }), (first, ops) => {
        const { ring, returned } = ringWithLedger();
        const ps = [emptyPending(), emptyPending()];
        const model = new Map<number, { p: number; expiresAt: number }>();
        const removed = [0, 0];
        let next = first + 1;
        let now = 0;
        const remove = (s: number) => {
          removed[model.get(s)!.p]!++;
          model.delete(s);
        };
        for (const o of ops) {
          if (o.k === 'push') {
            for (let i = 0; i < o.n; i++, next++, now++) {
              ring.push(next, 'c', 't', ps[next % 2]!, 1, 0, 0, now, now + 2000);
              model.set(next, { p: next % 2, expiresAt: now + 2000 });
            }
          } else if (o.k === 'delete') {
            const s = next - 1 - o.back;
            const had = model.has(s);
            if (had) remove(s);
            expect(ring.delete(s)).toBe(had);
          } else if (o.k === 'sweep') {
            now += o.dt;
            let n = 0;
            // Equal timeouts: expiry order is seq order, so the model expires from the lowest seq up.
            for (const [s, r] of [...model].sort((x, y) => x[0] - y[0])) {
              if (r.expiresAt > now) break;
              remove(s);
              n++;
            }
            expect(ring.sweep(now)).toBe(n);
          } else {
            let n = 0;
            for (const [s, r] of [...model]) {
              if (o.which === -1 || r.p === o.which) {
                remove(s);
                n++;
              }
            }
            expect(ring.clear(o.which === -1 ? undefined : ps[o.which])).toBe(n);
          }
          expect(ring.size).toBe(model.size);
        }
        const live = [...model.keys()].sort((x, y) => x - y);
        expect(ring.list().map((r) => r.seq)).toEqual(live);
        expect(ring.headExpiry()).toBe(live.length === 0 ? Infinity : model.get(live[0]!)!.expiresAt);
        for (const s of [first, next, ...live.slice(0, 50)]) expect(ring.get(s) !== undefined).toBe(model.has(s));
        // Released, expired and never-pushed rows alike are absent (also in reused chunks).
        for (let s = Math.max(first, next - 3 * CHUNK); s <= next; s++) if ((ring.get(s) !== undefined) !== model.has(s)) expect.fail(`seq ${s}`);
        expect(returned.get(ps[0]!)?.n ?? 0).toBe(removed[0]);
        expect(returned.get(ps[1]!)?.n ?? 0).toBe(removed[1]);
      }),
      { numRuns: 200 },
    );
  });
});
