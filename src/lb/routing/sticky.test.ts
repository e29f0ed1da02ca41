import { describe, expect, it } from 'vitest';
import { registration, stats, testEngine } from '../../../test/support/synthetic.js';
import type { StatsOptions } from '../../../test/support/synthetic.js';
import type { EngineOptions, StickyEvent } from './types.js';

function setup(strategy: 'indexed' | 'scan', opts: Partial<EngineOptions> = {}) {
  const events: StickyEvent[] = [];
  const { clock, engine } = testEngine({ onStickyChange: (e) => events.push(e), strategy, ...opts });
  const add = (id: string, cpu: number, s: StatsOptions = {}): void => {
    engine.register(registration(id));
    engine.reportStats(id, stats({ cpu: [cpu, cpu, cpu, cpu, 90, 90, 90, 90], ...s }));
  };
  const pick = (tier: string, stickyId: string, extra: { exclude?: Set<string> } = {}): string | null => {
    const d = engine.route({ tier, stickyId, ...extra });
    return d.ok ? d.clientId : null;
  };
  return { clock, engine, add, pick, events };
}

describe.each(['indexed', 'scan'] as const)('sticky sessions (%s)', (strategy) => {
  it('assigns on first use and reuses the assignment even when another backend scores better', () => {
    const { engine, add, pick, events, clock } = setup(strategy);
    add('a', 10);
    add('b', 30);
    expect(pick('small', 's')).toBe('a');
    // a first assignment: nothing held before (prev null); a re-use names the backend it refreshes
    expect(events).toEqual([{ type: 'set', assignment: { stickyId: 's', tier: 'small', clientId: 'a', createdAt: clock.now(), lastUsed: clock.now() }, prev: null }]);
    engine.reportStats('a', stats({ cpu: [50, 50, 50, 50, 90, 90, 90, 90] })); // b is now better
    clock.advance(1000);
    const d = engine.route({ tier: 'small', stickyId: 's' });
    expect(d).toMatchObject({ ok: true, clientId: 'a', sticky: true });
    expect(events.at(-1)).toEqual({ type: 'set', assignment: { stickyId: 's', tier: 'small', clientId: 'a', createdAt: clock.now() - 1000, lastUsed: clock.now() }, prev: 'a' });
    // Another session goes to the better backend.
    const other = engine.route({ tier: 'small', stickyId: 't' });
    expect(other).toMatchObject({ ok: true, clientId: 'b', sticky: false });
    expect(engine.stickyAssignments().map((x) => [x.stickyId, x.tier, x.clientId])).toEqual([
      ['s', 'small', 'a'],
      ['t', 'small', 'b'],
    ]);
  });

  it('falls back and reassigns when the assigned backend is stale', () => {
    const { engine, add, pick, clock } = setup(strategy);
    add('a', 10);
    add('b', 30);
    expect(pick('small', 's')).toBe('a');
    clock.advance(4 * 60_000);
    engine.reportStats('b', stats({ cpu: [30, 30, 30, 30, 90, 90, 90, 90] }));
    clock.advance(60_001); // a: 5 min + 1 ms, b: 1 min
    expect(pick('small', 's')).toBe('b');
    expect(engine.stickyAssignments()[0]).toMatchObject({ clientId: 'b', createdAt: clock.now() });
  });

  it('drops assignments of a backend that turns unhealthy and falls back', () => {
    const { engine, add, pick, events } = setup(strategy);
    add('a', 10);
    add('b', 30);
    expect(pick('small', 's')).toBe('a');
    expect(pick('medium', 's')).toBe('a');
    expect(pick('small', 'other')).toBe('a');
    events.length = 0;
    engine.setHealth('a', 'unhealthy');
    expect(events).toEqual([
      { type: 'delete', stickyId: 'other', tier: 'small', clientId: 'a' },
      { type: 'delete', stickyId: 's', tier: 'medium', clientId: 'a' },
      { type: 'delete', stickyId: 's', tier: 'small', clientId: 'a' },
    ]);
    expect(engine.stickyAssignments()).toEqual([]);
    expect(pick('small', 's')).toBe('b');
    // Recovery does not move the session back.
    engine.setHealth('a', 'healthy');
    expect(pick('small', 's')).toBe('b');
  });

  it('falls back when the assigned backend no longer passes the filter or is excluded', () => {
    const { engine, add, pick } = setup(strategy);
    add('a', 10);
    add('b', 30);
    expect(pick('large', 's')).toBe('a');
    // a now has exactly the memory s holds (8 GB available, 8 GB pending for s).
    engine.reportStats('a', stats({ cpu: [10, 10, 10, 10, 90, 90, 90, 90], memAvail: 8, memUsed: 24 }));
    expect(engine.explain({ tier: 'large' }).rows.find((r) => r.clientId === 'a')?.eligible).toBe(false); // full for others
    // Session s's own reservation still counts as available to s.
    expect(pick('large', 's')).toBe('a');
    // Memory drops below what s needs even with its own reservation.
    engine.reportStats('a', stats({ cpu: [10, 10, 10, 10, 90, 90, 90, 90], memAvail: 7, memUsed: 25 }));
    expect(pick('large', 's')).toBe('b');
    expect(pick('large', 's', { exclude: new Set(['b']) })).toBe(null);
    expect(engine.stickyAssignments()[0]?.clientId).toBe('b'); // kept on failure
    add('c', 40);
    expect(pick('large', 's', { exclude: new Set(['b']) })).toBe('c');
  });

  it('falls back when the assigned backend was removed', () => {
    const { engine, add, pick, events } = setup(strategy);
    add('a', 10);
    add('b', 30);
    expect(pick('small', 's')).toBe('a');
    expect(engine.remove('a')).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'delete', stickyId: 's', tier: 'small', clientId: 'a' });
    expect(pick('small', 's')).toBe('b');
  });

  it('prefers the backend holding another tier of the same sticky id (affinity on)', () => {
    const { engine, add, pick } = setup(strategy);
    add('a', 10);
    add('b', 30);
    expect(pick('small', 'u')).toBe('a');
    engine.reportStats('a', stats({ cpu: [60, 60, 60, 60, 90, 90, 90, 90] })); // b is better now
    const d = engine.route({ tier: 'medium', stickyId: 'u' });
    expect(d).toMatchObject({ ok: true, clientId: 'a', sticky: true });
    // Affinity gives way when that backend cannot take the tier.
    expect(pick('large', 'u')).toBe('b');
  });

  it('picks freshly for a new tier when affinity is off', () => {
    const { engine, add, pick } = setup(strategy, { stickyAffinity: false });
    add('a', 10);
    add('b', 30);
    expect(pick('small', 'u')).toBe('a');
    engine.reportStats('a', stats({ cpu: [60, 60, 60, 60, 90, 90, 90, 90] }));
    const d = engine.route({ tier: 'medium', stickyId: 'u' });
    expect(d).toMatchObject({ ok: true, clientId: 'b', sticky: false });
  });

  it('restores persisted assignments without emitting events', () => {
    const { engine, add, pick, events, clock } = setup(strategy);
    add('a', 10);
    add('b', 30);
    engine.restoreSticky([{ stickyId: 'r', tier: 'small', clientId: 'b', createdAt: 1, lastUsed: 2 }]);
    expect(events).toEqual([]);
    expect(engine.stickyAssignments()).toEqual([{ stickyId: 'r', tier: 'small', clientId: 'b', createdAt: 1, lastUsed: 2 }]);
    expect(pick('small', 'r')).toBe('b');
    expect(events).toEqual([{ type: 'set', assignment: { stickyId: 'r', tier: 'small', clientId: 'b', createdAt: 1, lastUsed: clock.now() }, prev: 'b' }]);
  });

  it('prunes assignments unused for a while', () => {
    const { engine, add, pick, clock, events } = setup(strategy);
    add('a', 10);
    expect(pick('small', 'old')).toBe('a');
    clock.advance(10_000);
    engine.reportStats('a', stats());
    expect(pick('small', 'new')).toBe('a');
    events.length = 0;
    expect(engine.pruneSticky(5_000)).toBe(1);
    expect(events).toEqual([{ type: 'delete', stickyId: 'old', tier: 'small', clientId: 'a' }]);
    expect(engine.stickyAssignments().map((a) => a.stickyId)).toEqual(['new']);
  });

  it('treats an empty sticky id as no sticky id', () => {
    const { engine, add } = setup(strategy);
    add('a', 10);
    expect(engine.route({ tier: 'small', stickyId: '' }).ok).toBe(true);
    expect(engine.stickyAssignments()).toEqual([]);
  });
});
