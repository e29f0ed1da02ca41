/**
 * Where the monitoring regions are, and which region a request comes from.
 * A region's location is the one configured in `region_locations`, else the centroid of its
 * workers' locations (the mean of their unit vectors on the sphere, projected back onto it).
 * A request names its region with `client_region`; else it is mapped to the region nearest to its
 * location. Pure: no I/O.
 */
import { distanceKm, geoPoint } from './geo.js';
import type { GeoPoint } from './geo.js';

export interface LatLon {
  lat: number;
  lon: number;
}

const DEG = 180 / Math.PI;

/** The centroid of points on the sphere; null for none, or for points that cancel out (antipodes). */
export function sphericalCentroid(points: readonly LatLon[]): LatLon | null {
  let x = 0;
  let y = 0;
  let z = 0;
  for (const p of points) {
    const g = geoPoint(p.lat, p.lon);
    x += g.x;
    y += g.y;
    z += g.z;
  }
  const n = Math.hypot(x, y, z);
  if (points.length === 0 || n < 1e-9) return null;
  return { lat: Math.asin(z / n) * DEG, lon: Math.atan2(y, x) * DEG };
}

/** Configured locations win; other regions get the centroid of their workers' locations. */
export function regionLocations(configured: Readonly<Record<string, LatLon>>, workers: ReadonlyMap<string, readonly LatLon[]>): Map<string, LatLon> {
  const out = new Map<string, LatLon>();
  for (const [region, pts] of workers) {
    const c = sphericalCentroid(pts);
    if (c !== null) out.set(region, c);
  }
  for (const [region, loc] of Object.entries(configured)) out.set(region, { lat: loc.lat, lon: loc.lon });
  return out;
}

/** Maps requests to regions: by name, or by nearest location (ties: the smaller region name). */
export class RegionMap {
  private points: { region: string; g: GeoPoint }[] = [];
  private known = new Set<string>();

  set(locations: ReadonlyMap<string, LatLon>): void {
    this.points = [...locations]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([region, l]) => ({ region, g: geoPoint(l.lat, l.lon) }));
    this.known = new Set(locations.keys());
  }

  /** The regions with a location, by name. */
  list(): { region: string; lat: number; lon: number }[] {
    return this.points.map((p) => ({ region: p.region, lat: p.g.lat, lon: p.g.lon }));
  }

  has(region: string): boolean {
    return this.known.has(region);
  }

  /** `named` when given, else the region nearest to `q`, else null. */
  resolve(named: string | null | undefined, q: GeoPoint | null): string | null {
    if (named !== null && named !== undefined && named !== '') return named;
    if (q === null) return null;
    let best: string | null = null;
    let bestD = Infinity;
    for (const p of this.points) {
      const d = distanceKm(q, p.g);
      if (d < bestD) {
        bestD = d;
        best = p.region;
      }
    }
    return best;
  }
}
