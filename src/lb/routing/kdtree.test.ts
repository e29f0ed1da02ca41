import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { distanceKm, geoPoint, pruneChord2 } from './geo.js';
import type { GeoPoint } from './geo.js';
import { KdIndex } from './kdtree.js';
import type { KdItem, KdNode, KdVisitor } from './kdtree.js';

interface P extends KdItem {
  geo: GeoPoint;
}

function item(id: string, lat: number, lon: number, slots: number, member = true): P {
  const g = geoPoint(lat, lon);
  return { id, geo: g, ux: g.x, uy: g.y, uz: g.z, member: new Uint8Array(slots).fill(member ? 1 : 0), kdLeaf: null };
}

/** Nearest member by (distance, id), like the engine's visitor with score = distance. */
class Nearest implements KdVisitor<P> {
  thr2 = Infinity;
  best: P | null = null;
  bestD = Infinity;
  visited = 0;
  constructor(
    private readonly q: GeoPoint,
    private readonly slot: number,
  ) {}
  visit(p: P): void {
    this.visited++;
    if (p.member[this.slot] !== 1) return;
    const d = distanceKm(this.q, p.geo);
    if (d < this.bestD || (d === this.bestD && this.best !== null && p.id < this.best.id)) {
      this.best = p;
      this.bestD = d;
      this.thr2 = pruneChord2(d);
    }
  }
}

function brute(items: P[], q: GeoPoint, slot: number): P | null {
  let best: P | null = null;
  let bestD = Infinity;
  for (const p of items) {
    if (p.member[slot] !== 1) continue;
    const d = distanceKm(q, p.geo);
    if (d < bestD || (d === bestD && best !== null && p.id < best.id)) {
      best = p;
      bestD = d;
    }
  }
  return best;
}

/** Every node's count equals the members below it. */
function checkCounts(n: KdNode<KdItem> | null, slots: number): number[] {
  if (n === null) return new Array<number>(slots).fill(0);
  let below: number[];
  if (n.items !== null) {
    below = new Array<number>(slots).fill(0);
    for (const p of n.items) if (p.kdLeaf === n) for (let t = 0; t < slots; t++) below[t]! += p.member[t]!;
  } else {
    const l = checkCounts(n.left, slots);
    const r = checkCounts(n.right, slots);
    below = l.map((v, t) => v + r[t]!);
  }
  expect([...n.counts]).toEqual(below);
  return below;
}

const ptArb = fc.record({ lat: fc.double({ min: -89, max: 89, noNaN: true }), lon: fc.double({ min: -180, max: 180, noNaN: true }) });

describe('KdIndex', () => {
  it('finds the same nearest member as a brute-force scan through adds, removals, moves and membership flips', () => {
    fc.assert(
      fc.property(
        fc.array(ptArb, { minLength: 1, maxLength: 120 }),
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('flip' as const), i: fc.nat(), slot: fc.nat({ max: 1 }) }),
            fc.record({ op: fc.constant('remove' as const), i: fc.nat() }),
            fc.record({ op: fc.constant('move' as const), i: fc.nat(), to: ptArb }),
            fc.record({ op: fc.constant('query' as const), q: ptArb, slot: fc.nat({ max: 1 }) }),
          ),
          { maxLength: 80 },
        ),
        (pts, ops) => {
          const kd = new KdIndex<P>(2);
          const live = pts.map((p, i) => item(`p${i}`, p.lat, p.lon, 2, i % 3 !== 0));
          for (const p of live) kd.add(p);
          kd.rebuild();
          for (const op of ops) {
            if (live.length === 0) break;
            const p = live[(op.op === 'query' ? 0 : op.i) % live.length]!;
            if (op.op === 'flip') {
              p.member[op.slot] = p.member[op.slot] === 1 ? 0 : 1;
              kd.memberChanged(p, op.slot, p.member[op.slot] === 1 ? 1 : -1);
            } else if (op.op === 'remove') {
              kd.remove(p);
              live.splice(live.indexOf(p), 1);
            } else if (op.op === 'move') {
              kd.remove(p);
              const g = geoPoint(op.to.lat, op.to.lon);
              Object.assign(p, { geo: g, ux: g.x, uy: g.y, uz: g.z });
              kd.add(p);
            } else {
              const q = geoPoint(op.q.lat, op.q.lon);
              const v = new Nearest(q, op.slot);
              kd.search(op.slot, q.x, q.y, q.z, v);
              expect(v.best?.id ?? null).toBe(brute(live, q, op.slot)?.id ?? null);
            }
          }
          expect(kd.size).toBe(live.length);
          kd.rebuild();
          checkCounts((kd as unknown as { root: KdNode<KdItem> | null }).root, 2);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('prunes: a query visits far fewer points than the index holds', () => {
    const kd = new KdIndex<P>(1);
    for (let i = 0; i < 5000; i++) kd.add(item(`p${i}`, -80 + (i % 100) * 1.6, -180 + Math.floor(i / 100) * 7.2, 1));
    kd.rebuild();
    const q = geoPoint(10, 10);
    const v = new Nearest(q, 0);
    kd.search(0, q.x, q.y, q.z, v);
    expect(v.best).not.toBeNull();
    expect(v.visited).toBeLessThan(200);
  });

  it('skips subtrees without members for the slot', () => {
    const kd = new KdIndex<P>(2);
    const pts: P[] = [];
    for (let i = 0; i < 1000; i++) {
      const p = item(`p${i}`, -80 + (i % 40) * 4, -180 + Math.floor(i / 40) * 14, 2);
      p.member[1] = i === 999 ? 1 : 0;
      pts.push(p);
      kd.add(p);
    }
    kd.rebuild();
    const q = geoPoint(-80, -180);
    const v = new Nearest(q, 1);
    kd.search(1, q.x, q.y, q.z, v);
    expect(v.best?.id).toBe('p999');
    expect(v.visited).toBeLessThan(50);
  });
});
