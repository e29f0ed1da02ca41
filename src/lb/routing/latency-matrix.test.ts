import { describe, expect, it } from 'vitest';
import { LatencyMatrix, RTT_EWMA_ALPHA, RTT_EXPIRY_INTERVALS } from './latency-matrix.js';
import { RegionMap, regionLocations, sphericalCentroid } from './regions.js';
import { geoPoint } from './geo.js';

const T0 = 1_700_000_000_000;
const INTERVAL = 30_000;

describe('LatencyMatrix', () => {
  it('keeps an EWMA per (region, backend): the first sample as is, then α = 0.3', () => {
    const m = LatencyMatrix.forInterval(INTERVAL);
    expect(m.record('eu', 'a', 10, T0, null)).toBe(true);
    expect(m.get('eu', 'a', T0)).toMatchObject({ rttMs: 10, samples: 1, updatedAt: T0 });
    m.record('eu', 'a', 20, T0 + 1000, null);
    expect(m.get('eu', 'a', T0 + 1000)!.rttMs).toBeCloseTo(RTT_EWMA_ALPHA * 20 + (1 - RTT_EWMA_ALPHA) * 10, 12);
    expect(m.get('eu', 'a', T0 + 1000)!.samples).toBe(2);
    // Other regions and backends are separate entries.
    m.record('us', 'a', 80, T0 + 1000, null);
    expect(m.get('us', 'a', T0 + 1000)!.rttMs).toBe(80);
    expect(m.get('eu', 'b', T0 + 1000)).toBeNull();
  });

  it('rejects negative, non-finite and nameless samples', () => {
    const m = LatencyMatrix.forInterval(INTERVAL);
    expect(m.record('eu', 'a', -1, T0, null)).toBe(false);
    expect(m.record('eu', 'a', Number.NaN, T0, null)).toBe(false);
    expect(m.record('eu', 'a', Number.POSITIVE_INFINITY, T0, null)).toBe(false);
    expect(m.record('', 'a', 1, T0, null)).toBe(false);
    expect(m.entries(T0)).toEqual([]);
  });

  it('forgets an entry older than 3 probe intervals (exactly 3 is still known)', () => {
    const m = LatencyMatrix.forInterval(INTERVAL);
    m.record('eu', 'a', 5, T0, null);
    m.record('eu', 'b', 7, T0 + 10_000, null);
    const limit = RTT_EXPIRY_INTERVALS * INTERVAL;
    expect(m.get('eu', 'a', T0 + limit)).not.toBeNull();
    expect(m.get('eu', 'a', T0 + limit + 1)).toBeNull();
    expect(m.row('eu')!.order.map((e) => e.backendId)).toEqual(['b']);
    expect(m.entries(T0 + limit + 1)).toEqual([{ region: 'eu', backendId: 'b', rttMs: 7, samples: 1, ageMs: limit - 9_999 }]);
    expect(m.get('eu', 'b', T0 + 10_000 + limit + 1)).toBeNull();
    expect(m.row('eu')).toBeUndefined();
    // A new sample brings it back.
    m.record('eu', 'a', 9, T0 + 10 * limit, null);
    expect(m.get('eu', 'a', T0 + 10 * limit)).toMatchObject({ rttMs: 9, samples: 1 });
  });

  it('a shorter probe interval shortens the expiry', () => {
    const m = LatencyMatrix.forInterval(INTERVAL);
    m.record('eu', 'a', 5, T0, null);
    m.setProbeInterval(1000, T0 + 3001);
    expect(m.get('eu', 'a', T0 + 3001)).toBeNull();
  });

  it('orders each region by (rtt, backend id), following EWMA moves', () => {
    const m = LatencyMatrix.forInterval(INTERVAL);
    m.record('eu', 'c', 3, T0, null);
    m.record('eu', 'a', 3, T0, null);
    m.record('eu', 'b', 1, T0, null);
    expect(m.row('eu')!.order.map((e) => e.backendId)).toEqual(['b', 'a', 'c']);
    m.record('eu', 'b', 100, T0, null); // 0.3 × 100 + 0.7 × 1 = 30.7
    expect(m.row('eu')!.order.map((e) => e.backendId)).toEqual(['a', 'c', 'b']);
    m.removeBackend('a');
    expect(m.row('eu')!.order.map((e) => e.backendId)).toEqual(['c', 'b']);
    expect(m.row('eu')!.byBackend.has('a')).toBe(false);
  });
});

describe('regions', () => {
  it('a region is located at its workers’ centroid unless region_locations names it', () => {
    const c = sphericalCentroid([
      { lat: 10, lon: 20 },
      { lat: 10, lon: 20 },
    ])!;
    expect(c.lat).toBeCloseTo(10, 9);
    expect(c.lon).toBeCloseTo(20, 9);
    // Across the antimeridian the centroid stays on it, not at longitude 0.
    const dateLine = sphericalCentroid([
      { lat: 0, lon: 179 },
      { lat: 0, lon: -179 },
    ])!;
    expect(Math.abs(dateLine.lon)).toBeCloseTo(180, 6);
    expect(sphericalCentroid([])).toBeNull();
    const locs = regionLocations({ eu: { lat: 50, lon: 8 } }, new Map([
      ['eu', [{ lat: 0, lon: 0 }]],
      ['us', [{ lat: 40, lon: -100 }]],
    ]));
    expect(locs.get('eu')).toEqual({ lat: 50, lon: 8 });
    expect(locs.get('us')!.lat).toBeCloseTo(40, 9);
  });

  it('maps a request to the named region, else the nearest one, else none', () => {
    const r = new RegionMap();
    r.set(new Map([
      ['eu', { lat: 50, lon: 8 }],
      ['us', { lat: 40, lon: -100 }],
    ]));
    expect(r.resolve('ap', geoPoint(50, 8))).toBe('ap');
    expect(r.resolve(null, geoPoint(48, 2))).toBe('eu');
    expect(r.resolve('', geoPoint(35, -90))).toBe('us');
    expect(r.resolve(null, null)).toBeNull();
    expect(r.list().map((x) => x.region)).toEqual(['eu', 'us']);
  });
});
