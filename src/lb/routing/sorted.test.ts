import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScoreOrder } from './sorted.js';
import type { Scored } from './sorted.js';

const mk = (id: string, s: number): Scored => ({ id, score: Float64Array.of(s) });

describe('ScoreOrder', () => {
  it('keeps items ordered by (score, id) through inserts, moves and removals', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ op: fc.constantFrom('insert', 'move', 'remove'), id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), s: fc.constantFrom(0, 1, 1.5, 2, 10) }),
          { maxLength: 100 },
        ),
        (ops) => {
          const order = new ScoreOrder<Scored>(0);
          const present = new Map<string, Scored>();
          for (const { op, id, s } of ops) {
            const x = present.get(id);
            if (op === 'insert' && x === undefined) {
              const n = mk(id, s);
              order.insert(n);
              present.set(id, n);
            } else if (op === 'move' && x !== undefined) {
              order.move(x, s);
              x.score[0] = s;
            } else if (op === 'remove' && x !== undefined) {
              order.remove(x);
              present.delete(id);
            }
            const expected = [...present.values()].sort((p, q) => p.score[0]! - q.score[0]! || (p.id < q.id ? -1 : 1));
            expect(order.items.map((i) => i.id)).toEqual(expected.map((i) => i.id));
          }
        },
      ),
    );
  });

  it('refuses to remove an item whose key changed behind its back', () => {
    const order = new ScoreOrder<Scored>(0);
    const a = mk('a', 1);
    order.insert(a);
    order.insert(mk('b', 2));
    a.score[0] = 5;
    expect(() => order.remove(a)).toThrow(/not at its key position/);
  });
});
