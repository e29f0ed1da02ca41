/**
 * The engine's measured-distance state: `routing_distance`, `rtt_km_per_ms`, the region × backend
 * latency matrix and the region locations requests are mapped by. The engine asks it, per request,
 * for the request region's fresh matrix row (null in haversine mode). Pure: the clock is injected.
 */
import type { BackendState } from './backend-state.js';
import type { GeoPoint } from './geo.js';
import { LatencyMatrix } from './latency-matrix.js';
import type { RegionRow, RttView } from './latency-matrix.js';
import { RegionMap } from './regions.js';
import type { LatLon } from './regions.js';
import type { EngineOptions } from './types.js';

export type RoutingDistance = 'haversine' | 'measured';

export class MeasuredDistance {
  private readonly matrix: LatencyMatrix<BackendState>;
  private readonly regionMap = new RegionMap();
  measured: boolean;
  kmPerMs: number;

  constructor(
    opts: Pick<EngineOptions, 'routingDistance' | 'rttKmPerMs' | 'regionProbeIntervalMs'>,
    private readonly now: () => number,
    private readonly lookup: (clientId: string) => BackendState | undefined,
  ) {
    this.measured = opts.routingDistance === 'measured';
    this.kmPerMs = opts.rttKmPerMs ?? 100;
    this.matrix = LatencyMatrix.forInterval<BackendState>(opts.regionProbeIntervalMs ?? 30_000);
  }

  get mode(): RoutingDistance {
    return this.measured ? 'measured' : 'haversine';
  }

  /** Sets `routing_distance`, `rtt_km_per_ms` and the probe interval the matrix expiry follows. */
  configure(mode: RoutingDistance, kmPerMs: number, probeIntervalMs: number): void {
    this.measured = mode === 'measured';
    this.kmPerMs = kmPerMs;
    this.matrix.setProbeInterval(probeIntervalMs, this.now());
  }

  /** Feeds one probe round trip from `region` to a backend. false for an unknown backend or a bad value. */
  recordRtt(region: string, clientId: string, rttMs: number): boolean {
    const b = this.lookup(clientId);
    if (b === undefined) return false;
    return this.matrix.record(region, clientId, rttMs, this.now(), b);
  }

  removeBackend(clientId: string): void {
    this.matrix.removeBackend(clientId);
  }

  /** The fresh matrix entries, by (region, backend). */
  entries(): RttView[] {
    return this.matrix.entries(this.now());
  }

  /** Replaces the region locations requests are mapped by (nearest region when none is named). */
  setRegionLocations(locations: ReadonlyMap<string, LatLon>): void {
    this.regionMap.set(locations);
  }

  regions(): { region: string; lat: number; lon: number }[] {
    return this.regionMap.list();
  }

  /** The named region, else the located region nearest to q, else null. */
  regionOf(named: string | null | undefined, q: GeoPoint | null): string | null {
    return this.regionMap.resolve(named, q);
  }

  /** Measured mode: the region's fresh row (expired entries dropped first); else null. */
  rowFor(region: string | null, now: number): RegionRow<BackendState> | null {
    if (!this.measured || region === null) return null;
    this.matrix.sweep(now);
    return this.matrix.row(region) ?? null;
  }
}
