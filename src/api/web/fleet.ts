/** The Connect implementation of vantage.v1.FleetService: the routing engine's backends and its explain. */
import type { ServiceImpl } from '@connectrpc/connect';
import type { FleetService } from '../../gen/vantage/v1/fleet_pb.js';
import type { RoutingEnginePort } from '../../lb/engine-port.js';
import type { BackendView, ExplainResult, ReservationView } from '../../lb/routing/types.js';
import { noCapacityMessage } from '../../lb/routing/summary.js';
import { big } from './convert.js';
import { Code, ConnectError } from '@connectrpc/connect';

export interface FleetServiceDeps {
  engine: Pick<RoutingEnginePort, 'backends' | 'counts' | 'reservations' | 'stickyAssignments' | 'explain' | 'tierNames' | 'defaultTier'>;
  now: () => number;
}

const opt = (n: number | null | undefined): number | undefined => (n === null || n === undefined ? undefined : n);

export function backendToProto(b: BackendView, reservations: readonly ReservationView[], sticky: number) {
  const reservedGpus = new Set(b.pending.gpuDeviceIds);
  const s = b.stats;
  return {
    clientId: b.clientId,
    hostname: b.hostname,
    endpoint: b.endpoint,
    country: b.country ?? '',
    city: b.city ?? '',
    latitude: opt(b.lat),
    longitude: opt(b.lon),
    totalCpu: b.totalCpu,
    totalMemoryGb: b.totalMemoryGb,
    totalStorageGb: b.totalStorageGb,
    hasStats: s !== null,
    statsAtMs: big(s?.timestamp ?? 0),
    cpuUsagePct: s?.cpuUsage ?? [],
    memoryTotalGb: s?.memoryTotalGb ?? 0,
    memoryUsedGb: s?.memoryUsedGb ?? 0,
    diskTotalGb: s?.diskTotalGb ?? 0,
    diskUsedGb: s?.diskUsedGb ?? 0,
    gpus: (s?.gpus ?? []).map((g) => ({
      deviceId: g.deviceId,
      name: g.name,
      utilizationPct: opt(g.utilizationPct),
      memoryUsedGb: opt(g.memoryUsedGb),
      memoryTotalGb: opt(g.memoryTotalGb),
      temperatureC: opt(g.temperatureC),
      powerDrawW: opt(g.powerDrawW),
      reserved: reservedGpus.has(g.deviceId),
    })),
    health: b.health,
    latencyMs: opt(b.latencyMs),
    lastSeenMs: big(b.lastSeen),
    active: b.isActive,
    reservationCount: b.pending.reservations,
    reservedVcpu: b.pending.vcpu,
    reservedMemoryGb: b.pending.memoryGb,
    reservedStorageGb: b.pending.storageGb,
    stickyCount: sticky,
    reservations: reservations.map((r) => ({
      id: r.id,
      tier: r.tier,
      vcpu: r.vcpu,
      memoryGb: r.memoryGb,
      storageGb: r.storageGb,
      gpuDeviceIds: r.gpuDeviceIds,
      stickyId: r.stickyId ?? '',
      createdAtMs: big(r.createdAt),
      expiresAtMs: big(r.expiresAt),
    })),
  };
}

/** Every backend (sorted by client id) with its reservations and sticky count, and the engine's counts. */
export function fleetSnapshot(d: FleetServiceDeps, activeOnly = false) {
  const byBackend = new Map<string, ReservationView[]>();
  for (const r of d.engine.reservations()) byBackend.set(r.clientId, [...(byBackend.get(r.clientId) ?? []), r]);
  const sticky = new Map<string, number>();
  for (const a of d.engine.stickyAssignments()) sticky.set(a.clientId, (sticky.get(a.clientId) ?? 0) + 1);
  const backends = d.engine
    .backends()
    .filter((b) => !activeOnly || b.isActive)
    .sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0))
    .map((b) => backendToProto(b, byBackend.get(b.clientId) ?? [], sticky.get(b.clientId) ?? 0));
  const c = d.engine.counts();
  return { backends, total: c.total, active: c.active, stale: c.stale, unhealthy: c.unhealthy, reservations: c.reservations, generatedAtMs: big(d.now()) };
}

export function explainToProto(ex: ExplainResult, now: number) {
  const dec = ex.decision;
  const base = {
    tier: ex.tier,
    routingDistance: ex.routingDistance,
    region: ex.region ?? '',
    rows: ex.rows.map((r) => ({
      clientId: r.clientId,
      hostname: r.hostname,
      eligible: r.eligible,
      reason: r.reason ?? '',
      detail: r.detail ?? '',
      terms: r.terms && { ...r.terms, distanceKm: opt(r.terms.distanceKm) },
    })),
  };
  if (dec.ok) return { ...base, ok: true, clientId: dec.clientId, hostname: dec.hostname, score: dec.score };
  if (dec.code === 'unknown_tier') return { ...base, ok: false, code: dec.code, message: `unknown tier "${dec.tier}"`, knownTiers: dec.knownTiers };
  return { ...base, ok: false, code: dec.code, message: noCapacityMessage(dec, now) };
}

export function createFleetServiceImpl(d: FleetServiceDeps): ServiceImpl<typeof FleetService> {
  return {
    async listBackends(req) {
      return fleetSnapshot(d, req.activeOnly);
    },
    async explain(req) {
      const lat = req.latitude;
      const lon = req.longitude;
      if ((lat === undefined) !== (lon === undefined)) throw new ConnectError('latitude and longitude: give both or neither', Code.InvalidArgument);
      if (lat !== undefined && (!Number.isFinite(lat) || lat < -90 || lat > 90)) throw new ConnectError(`latitude: expected -90 to 90, got ${lat}`, Code.InvalidArgument);
      if (lon !== undefined && (!Number.isFinite(lon) || lon < -180 || lon > 180)) throw new ConnectError(`longitude: expected -180 to 180, got ${lon}`, Code.InvalidArgument);
      if (req.tier !== '' && !d.engine.tierNames().includes(req.tier)) {
        throw new ConnectError(`tier: unknown tier "${req.tier}", expected one of ${d.engine.tierNames().join(', ')}`, Code.InvalidArgument);
      }
      const ex = d.engine.explain({ tier: req.tier || null, lat: lat ?? null, lon: lon ?? null, region: req.region || null });
      return explainToProto(ex, d.now());
    },
  };
}
