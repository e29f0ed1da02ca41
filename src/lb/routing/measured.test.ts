import { describe, expect, it } from 'vitest';
import { registration, stats, testEngine } from '../../../test/support/synthetic.js';
import { haversineKm } from './geo.js';
import type { EngineOptions } from './types.js';

// Two backends 1° of longitude apart on the equator (≈ 111 km), identical load; a client near A.
const A = { lat: 0, lon: 0 };
const B = { lat: 0, lon: 1 };
const CLIENT = { lat: 0, lon: 0.1 };

function setup(opts: Partial<EngineOptions> = {}) {
  const t = testEngine({ regionProbeIntervalMs: 30_000, ...opts });
  for (const [id, loc] of [['a', A], ['b', B]] as const) {
    t.engine.register(registration(id, loc));
    t.engine.reportStats(id, stats({}));
  }
  t.engine.latency.setRegionLocations(new Map([
    ['west', { lat: 0, lon: -5 }],
    ['east', { lat: 0, lon: 5 }],
  ]));
  return t;
}

describe('routing_distance', () => {
  it('haversine (the default) ignores measurements', () => {
    const { engine } = setup();
    engine.latency.recordRtt('west', 'a', 50);
    engine.latency.recordRtt('west', 'b', 1);
    const d = engine.route({ lat: CLIENT.lat, lon: CLIENT.lon, region: 'west' });
    expect(d).toMatchObject({ ok: true, clientId: 'a' });
    if (d.ok) expect(d.distanceKm).toBeCloseTo(haversineKm(CLIENT.lat, CLIENT.lon, A.lat, A.lon), 9);
    const ex = engine.explain({ lat: CLIENT.lat, lon: CLIENT.lon, region: 'west' });
    expect(ex.routingDistance).toBe('haversine');
    expect(ex.rows.every((r) => r.distance?.source === 'haversine')).toBe(true);
  });

  it('measured scores rtt × rtt_km_per_ms for measured backends, so a slow path loses to a far backend', () => {
    const { engine } = setup({ routingDistance: 'measured', rttKmPerMs: 100 });
    engine.latency.recordRtt('west', 'a', 5); // 500 km
    engine.latency.recordRtt('west', 'b', 1); // 100 km
    const d = engine.route({ lat: CLIENT.lat, lon: CLIENT.lon, region: 'west' });
    expect(d).toMatchObject({ ok: true, clientId: 'b', distanceKm: 100 });
    const ex = engine.explain({ lat: CLIENT.lat, lon: CLIENT.lon, region: 'west' });
    expect(ex.region).toBe('west');
    const rowA = ex.rows.find((r) => r.clientId === 'a')!;
    expect(rowA.terms!.distanceKm).toBe(500);
    expect(rowA.distance).toMatchObject({ source: 'measured', measuredRttMs: 5, measuredAgeMs: 0, measuredSamples: 1 });
    expect(rowA.distance!.haversineKm).toBeCloseTo(haversineKm(CLIENT.lat, CLIENT.lon, A.lat, A.lon), 9);
    // The km-per-ms factor scales the term.
    const half = setup({ routingDistance: 'measured', rttKmPerMs: 50 }).engine;
    half.latency.recordRtt('west', 'a', 5);
    half.latency.recordRtt('west', 'b', 1);
    expect(half.route({ region: 'west' })).toMatchObject({ clientId: 'b', distanceKm: 50 });
  });

  it('falls back to haversine for a backend the region has not measured, and for other regions', () => {
    const { engine } = setup({ routingDistance: 'measured' });
    engine.latency.recordRtt('west', 'a', 10); // 1000 km: worse than B's ≈ 100 km great-circle
    const d = engine.route({ lat: CLIENT.lat, lon: CLIENT.lon, region: 'west' });
    expect(d).toMatchObject({ ok: true, clientId: 'b' });
    const rowB = engine.explain({ lat: CLIENT.lat, lon: CLIENT.lon, region: 'west' }).rows.find((r) => r.clientId === 'b')!;
    expect(rowB.distance).toMatchObject({ source: 'haversine', measuredRttMs: null, measuredAgeMs: null });
    // Region east measured nothing: plain haversine, so A (nearest) wins.
    expect(engine.route({ lat: CLIENT.lat, lon: CLIENT.lon, region: 'east' })).toMatchObject({ clientId: 'a' });
  });

  it('maps a request without client_region to the nearest region', () => {
    const { engine } = setup({ routingDistance: 'measured' });
    engine.latency.recordRtt('west', 'a', 10);
    engine.latency.recordRtt('west', 'b', 1);
    expect(engine.explain({ lat: 0, lon: -4 }).region).toBe('west');
    expect(engine.route({ lat: 0, lon: -4 })).toMatchObject({ clientId: 'b', distanceKm: 100 });
    expect(engine.explain({ lat: 0, lon: 4 }).region).toBe('east');
  });

  it('an entry older than 3 probe intervals no longer counts', () => {
    const { engine, clock } = setup({ routingDistance: 'measured' });
    engine.latency.recordRtt('west', 'a', 10);
    engine.latency.recordRtt('west', 'b', 0.1);
    clock.advance(90_000);
    expect(engine.route({ lat: CLIENT.lat, lon: CLIENT.lon, region: 'west' })).toMatchObject({ clientId: 'b', distanceKm: 10 });
    clock.advance(1);
    expect(engine.route({ lat: CLIENT.lat, lon: CLIENT.lon, region: 'west' })).toMatchObject({ clientId: 'a' });
    expect(engine.latency.entries()).toEqual([]);
  });

  it('a request without a location still uses measured distances of its named region', () => {
    const { engine } = setup({ routingDistance: 'measured' });
    engine.latency.recordRtt('west', 'a', 2);
    // B unmeasured and no client location: B has no distance term (score = load only) and wins.
    expect(engine.route({ region: 'west' })).toMatchObject({ clientId: 'b', distanceKm: null });
    engine.latency.recordRtt('west', 'b', 3);
    expect(engine.route({ region: 'west' })).toMatchObject({ clientId: 'a', distanceKm: 200 });
  });

  it('ties go to the smaller client id, in the index and the scan alike', () => {
    for (const strategy of ['indexed', 'scan'] as const) {
      const { engine } = setup({ routingDistance: 'measured', strategy });
      engine.latency.recordRtt('west', 'b', 2);
      engine.latency.recordRtt('west', 'a', 2);
      expect(engine.route({ region: 'west' })).toMatchObject({ clientId: 'a', distanceKm: 200 });
    }
  });

  it('a removed backend leaves the matrix; unknown backends are not recorded', () => {
    const { engine } = setup({ routingDistance: 'measured' });
    engine.latency.recordRtt('west', 'a', 2);
    expect(engine.latency.recordRtt('west', 'nope', 2)).toBe(false);
    engine.remove('a');
    expect(engine.latency.entries()).toEqual([]);
  });
});
