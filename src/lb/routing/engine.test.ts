import { describe, expect, it } from 'vitest';
import { DEFAULT_TIERS } from '../../config/tiers.js';
import { RoutingEngine } from './engine.js';
import { registration, stats, testEngine } from '../../../test/support/synthetic.js';
import type { StatsOptions } from '../../../test/support/synthetic.js';
import type { EngineOptions } from './types.js';

function setup(opts: Partial<EngineOptions> = {}) {
  const { clock, engine } = testEngine(opts);
  const add = (id: string, s: StatsOptions | null = {}, lat: number | null = null, lon: number | null = null): void => {
    engine.register(registration(id, { lat, lon }));
    if (s !== null) engine.reportStats(id, stats(s));
  };
  return { clock, engine, add };
}

describe('RoutingEngine: configuration', () => {
  it('rejects bad tier configuration', () => {
    const base = { staleMinutes: 5, pendingTimeoutSeconds: 120, stickyAffinity: true, healthCheckEnabled: true };
    expect(() => new RoutingEngine({ ...base, tiers: [] })).toThrow(/at least one tier/);
    expect(() => new RoutingEngine({ ...base, tiers: DEFAULT_TIERS, defaultTier: 'huge' })).toThrow(/default tier "huge"/);
    expect(() => new RoutingEngine({ ...base, tiers: [DEFAULT_TIERS[0]!, DEFAULT_TIERS[0]!] })).toThrow(/duplicate/);
  });

  it('uses the first tier as default unless told otherwise', () => {
    const { engine, add } = setup();
    expect(engine.defaultTier).toBe('small');
    expect(engine.tierNames()).toEqual(['small', 'medium', 'large', 'gpu-inference', 'gpu-training']);
    add('a');
    expect(engine.route({})).toMatchObject({ ok: true, tier: 'small' });
    expect(engine.route({ tier: null })).toMatchObject({ ok: true, tier: 'small' });
    expect(engine.route({ tier: '' })).toMatchObject({ ok: true, tier: 'small' });
    const other = setup({ defaultTier: 'large' });
    other.add('a');
    expect(other.engine.route({})).toMatchObject({ ok: true, tier: 'large' });
  });

  it('answers unknown_tier with the known tiers', () => {
    const { engine } = setup();
    expect(engine.route({ tier: 'huge' })).toEqual({
      ok: false,
      code: 'unknown_tier',
      tier: 'huge',
      knownTiers: ['small', 'medium', 'large', 'gpu-inference', 'gpu-training'],
    });
    expect(engine.explain({ tier: 'huge' }).decision).toMatchObject({ code: 'unknown_tier' });
  });

  it('reloads tiers, keeping fleet state', () => {
    const { engine, add } = setup();
    add('a', { cpu: [10, 10, 90, 90] });
    expect(engine.route({ tier: 'large' }).ok).toBe(false);
    engine.setTiers([{ name: 'tiny', vcpu: 1, memory_gb: 1, storage_gb: 1, gpu: 0, gpu_memory_gb: 0 }]);
    expect(engine.tierNames()).toEqual(['tiny']);
    expect(engine.defaultTier).toBe('tiny');
    expect(engine.route({ tier: 'large' })).toMatchObject({ code: 'unknown_tier' });
    expect(engine.route({})).toMatchObject({ ok: true, clientId: 'a', tier: 'tiny' });
    expect(() => engine.setTiers(DEFAULT_TIERS, 'nope')).toThrow();
    expect(engine.tierNames()).toEqual(['tiny']);
  });
});

describe('RoutingEngine: fleet', () => {
  it('reports stats only for registered clients', () => {
    const { engine } = setup();
    expect(engine.reportStats('ghost', stats())).toBe(false);
    expect(engine.setHealth('ghost', 'healthy')).toBe(false);
    expect(engine.recordLatency('ghost', 1)).toBe(false);
    expect(engine.remove('ghost')).toBe(false);
  });

  it('keeps stats, health and reservations when a backend re-registers', () => {
    const { engine, add, clock } = setup();
    add('a', {}, 10, 20);
    engine.setHealth('a', 'healthy', 3);
    expect(engine.route({ tier: 'small' }).ok).toBe(true);
    clock.advance(1000);
    engine.register({ ...registration('a', { lat: 11, lon: 21 }), hostname: 'renamed' });
    const v = engine.backend('a')!;
    expect(v).toMatchObject({ hostname: 'renamed', lat: 11, lon: 21, health: 'healthy', latencyMs: 3, lastSeen: clock.now(), isActive: true });
    expect(v.stats).not.toBeNull();
    expect(v.pending).toMatchObject({ reservations: 1, vcpu: 1, memoryGb: 1, storageGb: 5 });
    expect(engine.route({ tier: 'small', lat: 11, lon: 21 })).toMatchObject({ ok: true, clientId: 'a', distanceKm: 0 });
  });

  it('updates location from stats only when both coordinates are given', () => {
    const { engine, add } = setup();
    add('a', {}, 10, 20);
    engine.reportStats('a', stats({ lat: null, lon: null }));
    expect(engine.backend('a')).toMatchObject({ lat: 10, lon: 20 });
    engine.reportStats('a', stats({ lat: 0, lon: 0 }));
    expect(engine.backend('a')).toMatchObject({ lat: 0, lon: 0 });
    expect(engine.route({ lat: 0, lon: 0 })).toMatchObject({ ok: true, distanceKm: 0 });
  });

  it('lists backends by id with activity and counts', () => {
    const { engine, add, clock } = setup();
    add('b');
    add('a', null);
    clock.advance(6 * 60_000);
    add('c');
    engine.setHealth('c', 'unhealthy');
    expect(engine.backends().map((b) => [b.clientId, b.isActive, b.health])).toEqual([
      ['a', false, 'unknown'],
      ['b', false, 'unknown'],
      ['c', true, 'unhealthy'],
    ]);
    expect(engine.counts()).toEqual({ total: 3, active: 1, stale: 2, unhealthy: 1, reservations: 0 });
    expect(engine.backend('nope')).toBeUndefined();
  });

  it('purges stale backends', () => {
    const { engine, add, clock } = setup();
    add('old');
    clock.advance(2 * 60_000);
    add('mid');
    clock.advance(4 * 60_000);
    add('new');
    expect(engine.purgeStale()).toEqual(['old']);
    expect(engine.purgeStale(60_000)).toEqual(['mid']);
    expect(engine.backends().map((b) => b.clientId)).toEqual(['new']);
  });

  it('selects the endpoint by path', () => {
    const { engine } = setup();
    engine.register(registration('a', { endpoint: 'http://a', endpoints: [{ url: 'http://a-api', paths: ['/api'] }] }));
    engine.reportStats('a', stats());
    expect(engine.route({ path: '/api/x' })).toMatchObject({ ok: true, endpoint: 'http://a-api' });
    expect(engine.route({ path: '/other' })).toMatchObject({ ok: true, endpoint: 'http://a' });
    expect(engine.route({})).toMatchObject({ ok: true, endpoint: 'http://a' });
  });
});

describe('RoutingEngine: no capacity and explain', () => {
  it('summarises why nothing fits', () => {
    const { engine, add, clock } = setup();
    add('stale');
    clock.advance(6 * 60_000);
    add('nostats', null);
    add('mem1', { memAvail: 0.5, memUsed: 31.5 });
    add('mem2', { memAvail: 0.2, memUsed: 31.8 });
    add('sick');
    engine.setHealth('sick', 'unhealthy');
    expect(engine.route({ tier: 'small' })).toEqual({
      ok: false,
      code: 'no_capacity',
      tier: 'small',
      total: 5,
      reasons: { no_stats: 1, stale: 1, unhealthy: 1, memory: 2 },
      summary: '5 backends: 2 lack memory, 1 no stats yet, 1 stale, 1 unhealthy',
      held: null, // no reservation holds any of it
    });
    expect(setup().engine.route({})).toMatchObject({ ok: false, code: 'no_capacity', total: 0, summary: 'no backends registered' });
  });

  it('does not serve a stale no-capacity answer after anything relevant changes', () => {
    const { engine, add, clock } = setup();
    add('a', { cpu: [10, 90] });
    const first = engine.route({ tier: 'small' });
    if (!first.ok) throw new Error('expected ok');
    const full = engine.route({ tier: 'small' });
    // The one core is held by the first answer's reservation, not used: the answer says so.
    expect(full).toMatchObject({ ok: false, reasons: { cpu: 1 }, held: { backends: 1, reservations: 1, timeoutSeconds: 120 } });
    expect(engine.route({ tier: 'small' })).toBe(full); // cached while nothing changes
    // A release frees capacity.
    engine.release(first.reservationId);
    const again = engine.route({ tier: 'small' });
    expect(again.ok).toBe(true);
    expect(engine.route({ tier: 'small' }).ok).toBe(false);
    // Expiry frees capacity.
    clock.advance(120_000);
    engine.reportStats('a', stats({ cpu: [10, 90] }));
    expect(engine.route({ tier: 'small' }).ok).toBe(true);
    expect(engine.route({ tier: 'small' }).ok).toBe(false);
    // Time passing turns the reason into "stale" without any other change.
    clock.advance(5 * 60_000 + 1);
    expect(engine.route({ tier: 'small' })).toMatchObject({ ok: false, reasons: { stale: 1 } });
    // A new backend is considered at once.
    add('b');
    expect(engine.route({ tier: 'small' })).toMatchObject({ ok: true, clientId: 'b' });
  });

  it('explains every backend without reserving, in score order then by id', () => {
    const { engine, add } = setup();
    add('z-good', { cpu: [5, 5, 5, 5] }, 48.85, 2.35);
    add('y-ok', { cpu: [20, 20, 20, 20] }, null, null);
    add('x-busy', { cpu: [95, 95, 95, 95] });
    add('w-nostats', null);
    const ex = engine.explain({ tier: 'small', lat: 48.85, lon: 2.35 });
    expect(ex.tier).toBe('small');
    expect(ex.rows.map((r) => [r.clientId, r.eligible, r.reason ?? null])).toEqual([
      ['z-good', true, null],
      ['y-ok', true, null],
      ['w-nostats', false, 'no_stats'],
      ['x-busy', false, 'cpu'],
    ]);
    const busy = ex.rows.find((r) => r.clientId === 'x-busy')!;
    expect(busy.detail).toMatch(/0 cores below 80% − 0 pending vCPU < 1 needed/);
    const good = ex.rows[0]!.terms!;
    expect(good).toMatchObject({ distanceKm: 0, cpu: 5, memory: 25, gpu: 0, latencyMs: 0, total: 30 });
    expect(ex.rows[1]!.terms!.distanceKm).toBeNull();
    expect(ex.decision).toMatchObject({ ok: true, clientId: 'z-good', reservationId: '', score: 30 });
    expect(engine.counts().reservations).toBe(0);
    // explain agrees with route.
    expect(engine.route({ tier: 'small', lat: 48.85, lon: 2.35 })).toMatchObject({ ok: true, clientId: 'z-good', score: 30 });
  });
});

describe('RoutingEngine: spatial index upkeep', () => {
  it('follows location changes, removals and many additions (rebuilds)', () => {
    const { engine } = setup();
    const put = (id: string, lat: number, lon: number): void => {
      engine.register(registration(id, { lat, lon }));
      engine.reportStats(id, stats());
    };
    for (let i = 0; i < 200; i++) put(`n${String(i).padStart(3, '0')}`, -60 + (i % 20) * 6, -170 + Math.floor(i / 20) * 34);
    const near = (lat: number, lon: number): string | null => {
      const d = engine.route({ lat, lon });
      if (!d.ok) return null;
      engine.release(d.reservationId);
      return d.clientId;
    };
    expect(near(-60, -170)).toBe('n000');
    // Move n000 across the globe: the index must follow.
    put('n000', 70, 100);
    expect(near(70.1, 100.1)).toBe('n000');
    expect(near(-60, -170)).not.toBe('n000');
    // Remove the nearest, then the next nearest wins.
    const before = near(70.1, 100.1);
    engine.remove(before!);
    expect(near(70.1, 100.1)).not.toBe(before);
    // Unknown location: routed without distance.
    engine.register(registration('n000', { lat: null, lon: null }));
    engine.reportStats('n000', stats());
    for (let i = 0; i < 50; i++) put(`m${i}`, 10 + i * 0.01, 10);
    expect(near(10.25, 10)).toBe('m25');
  });
});
