import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EARTH_RADIUS_KM, distanceKm, geoPoint, haversineKm, maybeGeoPoint, pruneChord2 } from './geo.js';

const lat = fc.double({ min: -90, max: 90, noNaN: true });
const lon = fc.double({ min: -180, max: 180, noNaN: true });

describe('haversineKm', () => {
  it('matches known city distances', () => {
    expect(haversineKm(51.5074, -0.1278, 48.8566, 2.3522)).toBeCloseTo(343.5, 0); // London–Paris
    expect(haversineKm(40.7128, -74.006, 34.0522, -118.2437)).toBeCloseTo(3935.7, 0); // NYC–LA
  });

  it('is 0 for the same point, including (0, 0)', () => {
    expect(haversineKm(0, 0, 0, 0)).toBe(0);
    expect(haversineKm(12.5, -7.25, 12.5, -7.25)).toBe(0);
  });

  it('treats 0 as a real coordinate', () => {
    // One degree of longitude along the equator.
    expect(haversineKm(0, 0, 0, 1)).toBeCloseTo((Math.PI * EARTH_RADIUS_KM) / 180, 6);
  });

  it('gives half the circumference for antipodes', () => {
    expect(haversineKm(0, 0, 0, 180)).toBeCloseTo(Math.PI * EARTH_RADIUS_KM, 6);
    expect(haversineKm(90, 0, -90, 0)).toBeCloseTo(Math.PI * EARTH_RADIUS_KM, 6);
  });

  it('is symmetric and equals distanceKm on prepared points', () => {
    fc.assert(
      fc.property(
        lat,
        lon,
        lat,
        lon,
        (a, b, c, d) => {
          const x = haversineKm(a, b, c, d);
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(Math.PI * EARTH_RADIUS_KM + 1e-6);
          expect(Math.abs(x - haversineKm(c, d, a, b))).toBeLessThan(1e-6);
          expect(distanceKm(geoPoint(a, b), geoPoint(c, d))).toBe(x);
        },
      ),
    );
  });
});

describe('maybeGeoPoint', () => {
  it('is null unless both coordinates are finite numbers', () => {
    expect(maybeGeoPoint(null, 1)).toBeNull();
    expect(maybeGeoPoint(1, undefined)).toBeNull();
    expect(maybeGeoPoint(Number.NaN, 1)).toBeNull();
    expect(maybeGeoPoint(0, 0)).not.toBeNull();
  });
});

describe('pruneChord2', () => {
  it('never prunes a point whose distance is within the bound', () => {
    fc.assert(
      fc.property(
        lat,
        lon,
        lat,
        lon,
        (a, b, c, d) => {
          const p = geoPoint(a, b);
          const q = geoPoint(c, d);
          const km = distanceKm(p, q);
          const chord2 = (p.x - q.x) ** 2 + (p.y - q.y) ** 2 + (p.z - q.z) ** 2;
          expect(chord2).toBeLessThanOrEqual(pruneChord2(km));
        },
      ),
    );
  });

  it('is Infinity when no pruning is possible', () => {
    expect(pruneChord2(Infinity)).toBe(Infinity);
    expect(pruneChord2(Math.PI * EARTH_RADIUS_KM + 1)).toBe(Infinity);
    expect(pruneChord2(0)).toBeGreaterThan(0);
  });
});
