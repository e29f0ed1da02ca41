import { describe, expect, it } from 'vitest';
import { emptyPending } from './filter.js';
import { ReservationBook, stickyKey } from './reservations.js';
import { registration, stats, testEngine } from '../../../test/support/synthetic.js';
import type { StatsOptions } from '../../../test/support/synthetic.js';
import type { EngineOptions } from './types.js';

describe('ReservationBook', () => {
  const mk = (clientId = 'a') => ({ clientId, tier: 'small', vcpu: 1, mem: 2, disk: 3, gpuDevices: [] as number[], stickyId: null, key: null, pending: emptyPending() });
  const sticky = (id: string, p = emptyPending()) => ({ ...mk(), stickyId: id, key: stickyKey(id, 'small'), pending: p });

  it('adds and subtracts pending resources, plain, GPU and sticky alike, resetting to exact zero when empty', () => {
    const book = new ReservationBook(1000, 'x-');
    const p = emptyPending();
    const a = book.add({ ...mk(), mem: 0.1, gpuDevices: [0], pending: p }, 0);
    const b = book.add({ ...mk(), mem: 0.2, gpuDevices: [1], pending: p }, 0);
    const c = book.add({ ...mk(), mem: 0.4, pending: p }, 0);
    const d = book.add({ ...sticky('s', p), mem: 0.8 }, 0);
    expect(p).toMatchObject({ count: 4, cpu: 4, disk: 12 });
    expect(p.mem).toBeCloseTo(1.5, 12);
    expect([...p.gpu.entries()].sort()).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect(book.release(a)).toBe(true);
    expect(book.release(a)).toBe(false);
    expect(p.gpu.has(0)).toBe(false);
    expect(book.release(c)).toBe(true);
    expect(book.release(c)).toBe(false);
    expect(p).toMatchObject({ count: 2, cpu: 2, disk: 6 });
    expect(p.mem).toBeCloseTo(1.0, 12);
    book.release(b);
    book.release(d);
    expect(p).toMatchObject({ count: 0, cpu: 0, mem: 0, disk: 0 });
    expect(p.gpu.size).toBe(0);
    expect(book.size).toBe(0);
  });

  it('earliestExpiryOn: the first live reservation on the given backends, plain or object, skipping others', () => {
    const book = new ReservationBook(1000, 'x-');
    const a = emptyPending();
    const b = emptyPending();
    const first = book.add({ ...mk('a'), pending: a }, 0); // the earliest overall, but on a
    book.add({ ...mk('b'), pending: b }, 10);
    book.add({ ...sticky('s', b) }, 5); // an object reservation on b, earlier than b's plain one
    expect(book.earliestExpiryOn(new Set([b]))).toBe(1005);
    expect(book.earliestExpiryOn(new Set([a, b]))).toBe(1000);
    book.release(first);
    expect(book.earliestExpiryOn(new Set([a]))).toBe(Infinity);
  });

  it('finds a reservation only by the exact id it issued', () => {
    const book = new ReservationBook(1000, 'x-');
    const other = new ReservationBook(1000, 'y-');
    const ids = Array.from({ length: 40 }, () => book.add(mk(), 0));
    const gpu = book.add({ ...mk(), gpuDevices: [3] }, 0);
    other.add(mk(), 0);
    expect(ids[35]).toBe('x-10'); // seq 36
    expect(ids[9]).toBe('x-a');
    expect(book.get('x-10')).toMatchObject({ id: 'x-10', clientId: 'a', tier: 'small', vcpu: 1, memoryGb: 2, storageGb: 3, gpuDeviceIds: [] });
    expect(gpu).toBe('x-_1');
    expect(book.get(gpu)).toMatchObject({ id: gpu, gpuDeviceIds: [3] });
    for (const bad of ['x-010', 'x-A', 'x-10 ', 'x-10x', 'x-1.0', 'x-+10', 'x--10', 'x-', 'x-0', 'y-10', '10', '', 'x-zz', 'x-1000000000000', 'x-_2', 'x-_01', 'y-_1']) {
      expect(book.get(bad), bad).toBeUndefined();
      expect(book.release(bad), bad).toBe(false);
    }
    expect(book.size).toBe(41);
    expect(other.get('y-1')).toBeDefined();
    expect(other.get('x-1')).toBeUndefined();
  });

  it('expires in order of expiry, with refresh moving a sticky reservation to the back', () => {
    const book = new ReservationBook(100, 'x-');
    const a = book.add(sticky('s'), 0);
    const b = book.add(mk(), 10);
    const c = book.add(mk(), 20);
    book.refresh(book.byStickyKey(stickyKey('s', 'small'))!, 50); // a now expires at 150
    expect(book.nextExpiry()).toBe(110);
    expect(book.sweep(109)).toBe(0);
    expect(book.sweep(110)).toBe(1); // b (expiry is inclusive)
    expect(book.get(b)).toBeUndefined();
    expect(book.nextExpiry()).toBe(120);
    expect(book.sweep(149)).toBe(1); // c
    expect(book.get(a)).toMatchObject({ id: a, stickyId: 's', createdAt: 0, expiresAt: 150 });
    expect(book.sweep(150)).toBe(1);
    expect(book.size).toBe(0);
    expect(book.get(c)).toBeUndefined();
    expect(book.nextExpiry()).toBe(Infinity);
  });

  it('keeps one reservation per sticky key', () => {
    const book = new ReservationBook(100, 'x-');
    const key = stickyKey('s', 'small');
    const p = emptyPending();
    const a = book.add(sticky('s', p), 0);
    const b = book.add(sticky('s', p), 1);
    expect(book.byStickyKey(key)?.id).toBe(b);
    expect(book.get(a)).toBeUndefined();
    expect(p.count).toBe(1);
    book.release(b);
    expect(book.byStickyKey(key)).toBeUndefined();
  });

  it('gives unique ids', () => {
    const book = new ReservationBook(100, 'x-');
    const ids = new Set(Array.from({ length: 1000 }, (_, i) => book.add(i % 3 === 0 ? sticky(`s${i}`) : mk(), 0)));
    expect(ids.size).toBe(1000);
  });

  it('drops the reservations of one backend, or all, and lists the rest by expiry', () => {
    const book = new ReservationBook(100, 'x-');
    const pa = emptyPending();
    const pb = emptyPending();
    for (let t = 0; t < 10; t++) {
      book.add({ ...mk('a'), pending: pa }, t);
      book.add({ ...mk('b'), pending: pb }, t);
    }
    book.add({ ...sticky('s', pa), clientId: 'a' }, 3);
    book.add({ ...mk('b'), gpuDevices: [0], pending: pb }, 4);
    expect(book.clear(pa)).toBe(11);
    expect(pa.count).toBe(0);
    const left = book.list();
    expect(left).toHaveLength(11);
    expect(left.every((r) => r.clientId === 'b')).toBe(true);
    expect(left.map((r) => r.expiresAt)).toEqual([...left.map((r) => r.expiresAt)].sort((x, y) => x - y));
    expect(left.filter((r) => r.gpuDeviceIds.length === 1)).toHaveLength(1);
    expect(book.clear()).toBe(11);
    expect(pb).toMatchObject({ count: 0, cpu: 0, mem: 0, disk: 0 });
    expect(book.size).toBe(0);
    expect(book.list()).toEqual([]);
  });
});

function setup(strategy: 'indexed' | 'scan', opts: Partial<EngineOptions> = {}) {
  const { clock, engine } = testEngine({ staleMinutes: 60, stickyAffinity: false, strategy, ...opts });
  const add = (id: string, s: StatsOptions = {}): void => {
    engine.register(registration(id));
    engine.reportStats(id, stats(s));
  };
  return { clock, engine, add };
}

describe.each(['indexed', 'scan'] as const)('engine reservations (%s)', (strategy) => {
  it('expires reservations after pending_allocation_timeout_seconds (fake clock)', () => {
    const { clock, engine, add } = setup(strategy);
    add('a', { cpu: [10, 10, 90, 90] }); // room for one medium
    const d = engine.route({ tier: 'medium' });
    expect(d.ok).toBe(true);
    expect(engine.route({ tier: 'medium' })).toMatchObject({ ok: false, code: 'no_capacity', reasons: { cpu: 1 } });
    clock.advance(119_999);
    expect(engine.route({ tier: 'medium' }).ok).toBe(false);
    expect(engine.counts().reservations).toBe(1);
    clock.advance(1);
    expect(engine.counts().reservations).toBe(0);
    const again = engine.route({ tier: 'medium' });
    expect(again.ok).toBe(true);
    // The expired one cannot be released any more.
    if (d.ok) expect(engine.release(d.reservationId)).toBe(false);
  });

  it('releases by id, once', () => {
    const { engine, add } = setup(strategy);
    add('a', { cpu: [10, 10, 90, 90] });
    const d = engine.route({ tier: 'medium' });
    if (!d.ok) throw new Error('expected ok');
    expect(engine.release(d.reservationId)).toBe(true);
    expect(engine.release(d.reservationId)).toBe(false);
    expect(engine.release('nope')).toBe(false);
    expect(engine.route({ tier: 'medium' }).ok).toBe(true);
  });

  it('de-duplicates by (sticky_id, tier) and refreshes expiry instead of adding', () => {
    const { clock, engine, add } = setup(strategy);
    add('a', { cpu: [10, 10, 10, 90] }); // 3 cores free
    const first = engine.route({ tier: 'medium', stickyId: 's1' });
    clock.advance(100_000);
    const second = engine.route({ tier: 'medium', stickyId: 's1' });
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(second.reservationId).toBe(first.reservationId);
    expect(second.clientId).toBe('a');
    expect(engine.counts().reservations).toBe(1);
    expect(engine.backend('a')?.pending).toMatchObject({ reservations: 1, vcpu: 2 });
    // Full for anyone else: 3 − 2 = 1 < 2…
    expect(engine.route({ tier: 'medium' }).ok).toBe(false);
    // …but the session itself still fits: its own reservation counts as available to it.
    expect(engine.route({ tier: 'medium', stickyId: 's1' }).ok).toBe(true);
    // Expiry was refreshed at t = 100 s, so at t = 219.999 s it is still live.
    clock.advance(119_999);
    expect(engine.counts().reservations).toBe(1);
    clock.advance(1);
    expect(engine.counts().reservations).toBe(0);
    // A different tier of the same session is a different key.
    const a = engine.route({ tier: 'small', stickyId: 's1' });
    const b = engine.route({ tier: 'medium', stickyId: 's1' });
    expect(a.ok && b.ok && a.reservationId !== b.reservationId).toBe(true);
    expect(engine.counts().reservations).toBe(2);
  });

  it('moves a session reservation when the session moves to another backend', () => {
    const { engine, add } = setup(strategy);
    add('a', { cpu: [10, 10, 90, 90] });
    add('b', { cpu: [20, 20, 90, 90] });
    const first = engine.route({ tier: 'medium', stickyId: 's' });
    expect(first.ok && first.clientId).toBe('a');
    engine.setHealth('a', 'unhealthy');
    const second = engine.route({ tier: 'medium', stickyId: 's' });
    expect(second.ok && second.clientId).toBe('b');
    expect(engine.counts().reservations).toBe(1);
    expect(engine.backend('a')?.pending.reservations).toBe(0);
    if (first.ok) expect(engine.release(first.reservationId)).toBe(false);
  });

  it('clears all reservations (purge-pending) and drops them with their backend', () => {
    const { engine, add } = setup(strategy);
    add('a');
    add('b');
    for (let i = 0; i < 6; i++) expect(engine.route({ tier: 'small' }).ok).toBe(true);
    expect(engine.counts().reservations).toBe(6);
    expect(engine.clearReservations()).toBe(6);
    expect(engine.counts().reservations).toBe(0);
    expect(engine.backends().every((b) => b.pending.reservations === 0 && b.pending.vcpu === 0)).toBe(true);
    for (let i = 0; i < 4; i++) engine.route({ tier: 'small', exclude: new Set(['b']) });
    engine.route({ tier: 'small', exclude: new Set(['a']) });
    expect(engine.remove('a')).toBe(true);
    expect(engine.reservations().map((r) => r.clientId)).toEqual(['b']);
  });

  it('lists live reservations with their resources', () => {
    const { clock, engine, add } = setup(strategy);
    add('a');
    const d = engine.route({ tier: 'large', stickyId: 'u' });
    if (!d.ok) throw new Error('expected ok');
    expect(engine.reservations()).toEqual([
      { id: d.reservationId, clientId: 'a', tier: 'large', vcpu: 4, memoryGb: 8, storageGb: 30, gpuDeviceIds: [], stickyId: 'u', createdAt: clock.now(), expiresAt: clock.now() + 120_000 },
    ]);
  });
});
