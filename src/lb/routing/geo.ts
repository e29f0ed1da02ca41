/**
 * Great-circle distance. `haversineKm` is the public helper; the engine precomputes a `GeoPoint`
 * per backend and per request and calls `distanceKm`, which runs the very same arithmetic, so both
 * give bit-identical results.
 */

export const EARTH_RADIUS_KM = 6371;
const DEG = Math.PI / 180;

/** A location prepared for repeated distance computations and for the 3-D spatial index. */
export interface GeoPoint {
  readonly lat: number;
  readonly lon: number;
  readonly latR: number;
  readonly lonR: number;
  readonly cosLat: number;
  /** Unit vector on the sphere. */
  readonly x: number;
  readonly y: number;
  readonly z: number;
}

export function geoPoint(lat: number, lon: number): GeoPoint {
  const latR = lat * DEG;
  const lonR = lon * DEG;
  const cosLat = Math.cos(latR);
  return {
    lat,
    lon,
    latR,
    lonR,
    cosLat,
    x: cosLat * Math.cos(lonR),
    y: cosLat * Math.sin(lonR),
    z: Math.sin(latR),
  };
}

/** A point when both coordinates are finite numbers, else null (unknown location). */
export function maybeGeoPoint(lat: number | null | undefined, lon: number | null | undefined): GeoPoint | null {
  if (typeof lat !== 'number' || typeof lon !== 'number') return null;
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  return geoPoint(lat, lon);
}

/** Haversine distance in km between two prepared points. */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const sLat = Math.sin((b.latR - a.latR) / 2);
  const sLon = Math.sin((b.lonR - a.lonR) / 2);
  const h = sLat * sLat + a.cosLat * b.cosLat * sLon * sLon;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Haversine distance in km between two lat/lon pairs in degrees. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  return distanceKm(geoPoint(lat1, lon1), geoPoint(lat2, lon2));
}

/**
 * The squared chord length (between unit vectors) that corresponds to a great-circle distance of
 * `km`, padded by a tiny margin so that pruning with it never drops a point whose haversine
 * distance is ≤ km. Infinity when no pruning is possible.
 */
export function pruneChord2(km: number): number {
  if (!(km < Math.PI * EARTH_RADIUS_KM)) return Infinity;
  const c = 2 * Math.sin(km / EARTH_RADIUS_KM / 2);
  return c * c * (1 + 1e-9) + 1e-18;
}
