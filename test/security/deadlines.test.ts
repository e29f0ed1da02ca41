import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/http/pipeline.js';
import { RequestDeadlines } from '../../src/http/deadlines.js';

/** Fake timers: scheduled callbacks are run by the test. */
function fakeTimers() {
  const pending: Array<{ fn: () => void; ms: number }> = [];
  return {
    pending,
    timers: {
      setTimeout: (fn: () => void, ms: number) => {
        pending.push({ fn, ms });
        return pending.length;
      },
      clearTimeout: () => {},
    },
    /** Runs the oldest pending timer. */
    fire() {
      const t = pending.shift();
      if (!t) throw new Error('no timer pending');
      t.fn();
    },
  };
}

const ctx = (name: string) => ({ path: name }) as unknown as RequestContext;

describe('RequestDeadlines', () => {
  it('times out only requests past their deadline, with the timeout they were given, once', () => {
    let now = 0;
    const t = fakeTimers();
    const fired: string[] = [];
    const d = new RequestDeadlines(t.timers, () => now, (c, ms) => fired.push(`${c.path}:${ms}`));
    const a = ctx('a');
    const b = ctx('b');
    d.add(a, 5_000);
    now = 2_000;
    d.add(b, 5_000);
    expect(t.pending).toHaveLength(1); // one timer for the whole set
    expect(t.pending[0]!.ms).toBe(500); // a tenth of the timeout
    now = 5_000;
    t.fire();
    expect(fired).toEqual(['a:5000']);
    expect(a.deadline).toBeUndefined();
    expect(d.size()).toBe(1);
    now = 7_000;
    t.fire();
    expect(fired).toEqual(['a:5000', 'b:5000']);
    expect(t.pending).toHaveLength(0); // nothing left: no timer
  });

  it('a request removed when its response closes never times out, and an empty set stops the timer', () => {
    let now = 0;
    const t = fakeTimers();
    const fired: RequestContext[] = [];
    const d = new RequestDeadlines(t.timers, () => now, (c) => fired.push(c));
    const a = ctx('a');
    d.add(a, 1_000);
    a.deadline!.clear(); // what the dispatcher does on 'close'
    a.deadline?.clear(); // twice is harmless
    expect(d.size()).toBe(0);
    now = 10_000;
    t.fire();
    expect(fired).toEqual([]);
    expect(t.pending).toHaveLength(0);
  });

  it('sweeps at least every second and at most every 50 ms', () => {
    const t = fakeTimers();
    const d = new RequestDeadlines(t.timers, () => 0, () => {});
    d.add(ctx('long'), 600_000);
    expect(t.pending[0]!.ms).toBe(1000);
    const t2 = fakeTimers();
    const d2 = new RequestDeadlines(t2.timers, () => 0, () => {});
    d2.add(ctx('short'), 100);
    expect(t2.pending[0]!.ms).toBe(50);
  });

  it('takes requests out from the front, the middle and the back, and times out the rest even when a reload shortened the timeout', () => {
    let now = 0;
    const t = fakeTimers();
    const fired: string[] = [];
    const d = new RequestDeadlines(t.timers, () => now, (c, ms) => fired.push(`${c.path}:${ms}`));
    const cs = ['r1', 'r2', 'r3', 'r4', 'r5'].map(ctx);
    for (const c of cs) d.add(c, 10_000);
    const late = ctx('short');
    d.add(late, 1_000); // a reload shortened request_timeout_seconds: due before the ones already in
    for (const i of [0, 2, 4]) cs[i]!.deadline!.clear();
    expect(d.size()).toBe(3);
    now = 1_000;
    t.fire();
    expect(fired).toEqual(['short:1000']);
    now = 10_000;
    while (t.pending.length > 0) t.fire();
    expect(fired).toEqual(['short:1000', 'r2:10000', 'r4:10000']);
    expect(d.size()).toBe(0);
    // The list is whole again: a new request is watched and times out.
    const again = ctx('again');
    d.add(again, 1_000);
    now = 11_000;
    t.fire();
    expect(fired.at(-1)).toBe('again:1000');
  });
});
