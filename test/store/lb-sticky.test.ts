/** The one-winner rules of sticky assignments (pure): coalescing queued changes and planning them against the rows. */
import { describe, expect, it } from 'vitest';
import { coalesceSticky, planSticky, stickyKey, uniqueChanges } from '../../src/store/lb-sticky.js';
import type { LbSticky, LbStickyChange } from '../../src/store/lb.js';

const a = (clientId: string, at: number): LbSticky => ({ stickyId: 's', tier: 't', clientId, createdAt: at, lastUsed: at });
const set = (clientId: string, at: number, prev: string | null): LbStickyChange => ({ type: 'set', assignment: a(clientId, at), prev });
const del = (clientId: string): LbStickyChange => ({ type: 'delete', stickyId: 's', tier: 't', clientId });
const rows = (...list: LbSticky[]) => new Map(list.map((r) => [stickyKey(r.stickyId, r.tier), r]));

describe('coalescing sticky changes', () => {
  it('keeps what the database held before the first change: claim then move, move then refresh, delete then claim', () => {
    expect(coalesceSticky(set('x', 1, null), set('y', 2, 'x'))).toEqual(set('y', 2, null));
    expect(coalesceSticky(set('y', 1, 'x'), set('y', 2, 'y'))).toEqual(set('y', 2, 'x'));
    expect(coalesceSticky(del('x'), set('y', 2, null))).toEqual(set('y', 2, 'x'));
    expect(coalesceSticky(set('y', 1, 'x'), del('y'))).toEqual({ ...del('y'), prev: 'x' });
  });

  it('an unconditional change (no prev) stays unconditional', () => {
    expect(coalesceSticky({ type: 'set', assignment: a('x', 1) }, set('y', 2, 'x'))).toEqual({ type: 'set', assignment: a('y', 2) });
    expect(uniqueChanges([set('x', 1, null), set('y', 2, 'x')])).toEqual([set('y', 2, null)]);
  });
});

describe('planning sticky changes against the stored rows', () => {
  it('a coalesced claim-then-move still loses to another writer that claimed first', () => {
    const plan = planSticky(uniqueChanges([set('x', 1, null), set('y', 2, 'x')]), rows(a('z', 0)));
    expect(plan).toEqual({ write: [], remove: [], adopted: [a('z', 0)] });
  });

  it('a delete coalesced after a move removes the row the move started from', () => {
    const plan = planSticky([{ ...del('y'), prev: 'x' }], rows(a('x', 0)));
    expect(plan.remove).toEqual([{ stickyId: 's', tier: 't' }]);
  });
});
