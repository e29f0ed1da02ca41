/**
 * Contract types of the routing engine. The engine is pure: callers validate input at the HTTP
 * boundary (zod) and hand it over in these shapes.
 */
import type { Tier } from '../../config/tiers.js';
import type { DistanceInfo } from './measured-search.js';

export type { Tier };
export type { DistanceInfo };

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

/** Path-based endpoint selection rule (see `selectEndpoint`). */
export interface EndpointRule {
  url: string;
  paths: string[];
}

/** What /register supplies (already validated). */
export interface BackendRegistration {
  clientId: string;
  hostname: string;
  /** endpoint_url (the caller computes the default). */
  endpoint: string;
  publicIp?: string | null;
  localIp?: string | null;
  /** null = unknown; 0 is a real coordinate. */
  lat: number | null;
  lon: number | null;
  country?: string | null;
  city?: string | null;
  totalCpu: number;
  totalMemoryGb: number;
  totalStorageGb: number;
  totalGpus: number;
  gpuModels: string[];
  endpoints?: EndpointRule[];
}

export interface GpuStats {
  deviceId: number;
  name: string;
  utilizationPct: number | null;
  memoryUsedGb: number | null;
  memoryTotalGb: number | null;
  temperatureC?: number | null;
  powerDrawW?: number | null;
}

/** What /stats supplies (already validated; memoryTotalGb > 0). */
export interface BackendStats {
  /** ms epoch of the report. */
  timestamp: number;
  /** Per-core window average, 0–100. */
  cpuUsage: number[];
  memoryTotalGb: number;
  memoryUsedGb: number;
  memoryAvailGb: number;
  diskTotalGb: number;
  diskUsedGb: number;
  diskAvailGb: number;
  gpus: GpuStats[];
  /** Optional location update: applied only when both are finite numbers. */
  lat?: number | null;
  lon?: number | null;
}

export interface RouteRequest {
  /** null, undefined or '' = the default tier. */
  tier?: string | null;
  lat?: number | null;
  lon?: number | null;
  stickyId?: string | null;
  /** Backends not to pick (e.g. the proxy retrying after a connect failure). */
  exclude?: ReadonlySet<string>;
  /** Request path for path-based endpoint selection. */
  path?: string | null;
  /** The monitoring region the client is in (client_region); else the region nearest to lat/lon. */
  region?: string | null;
}

export type FilterReason =
  | 'no_stats'
  | 'stale'
  | 'unhealthy'
  | 'cpu'
  | 'memory'
  | 'disk'
  | 'gpu'
  | 'excluded';

/**
 * A score broken into its terms. `gpu` is the weighted contribution (1.5 × mean utilisation),
 * so `total` = (distanceKm ?? 0) + cpu + memory + gpu + latencyMs.
 */
export interface ScoreTerms {
  distanceKm: number | null;
  cpu: number;
  memory: number;
  gpu: number;
  latencyMs: number;
  total: number;
}

export type RouteDecision =
  | {
      ok: true;
      clientId: string;
      hostname: string;
      endpoint: string;
      /** '' in an `explain` decision, which reserves nothing. */
      reservationId: string;
      tier: string;
      distanceKm: number | null;
      score: number;
      /** true when the backend came from an existing sticky assignment (same tier, or affinity). */
      sticky: boolean;
      /** GPU devices (deviceId) reserved for this decision; empty (and shared, frozen) for non-GPU tiers. */
      gpuDeviceIds: readonly number[];
    }
  | { ok: false; code: 'unknown_tier'; tier: string; knownTiers: string[] }
  | {
      ok: false;
      code: 'no_capacity';
      tier: string;
      total: number;
      reasons: Partial<Record<FilterReason, number>>;
      /** e.g. "3 backends: 2 lack memory, 1 stale". */
      summary: string;
      /** The capacity live reservations hold: backends that would fit without them; null when none would. */
      held: HeldCapacity | null;
    };

/** Backends that lack resources only because of live reservations (see RouteDecision no_capacity). */
export interface HeldCapacity {
  /** How many backends would fit the tier without their reservations. */
  backends: number;
  /** How many live reservations those backends hold. */
  reservations: number;
  /** When the earliest of those reservations expires (ms, engine clock). */
  earliestExpiresAt: number;
  /** `pending_allocation_timeout_seconds`. */
  timeoutSeconds: number;
}

export interface ExplainRow {
  clientId: string;
  hostname: string;
  eligible: boolean;
  reason?: FilterReason;
  detail?: string;
  terms?: ScoreTerms;
  /** Eligible rows: which distance the score used, the haversine one and the measured RTT with its age. */
  distance?: DistanceInfo;
}

export interface ExplainResult {
  tier: string;
  routingDistance: 'haversine' | 'measured';
  /** The request's region: named (client_region), else the nearest located one; null when neither. */
  region: string | null;
  rows: ExplainRow[];
  decision: RouteDecision;
}

export interface StickyAssignment {
  stickyId: string;
  tier: string;
  clientId: string;
  createdAt: number;
  lastUsed: number;
}

/**
 * A change of the sticky table, as the store must persist it. Across replicas the database holds one winner
 * per (sticky_id, tier), and each change says what this replica believed before it:
 * - `set` with `prev`: the backend this replica held the assignment on just before (null: none). The store
 *   writes it only when the stored row is absent, already names `assignment.clientId` (a refresh), or still
 *   names `prev` (a move this replica decided); otherwise another replica's choice stands and is adopted.
 *   Without `prev` (restore, tests) the row is written as given.
 * - `delete` with `clientId`: removes the row only while it still names that backend (or the `prev` of an
 *   earlier change coalesced into this one), so that it never removes another replica's newer choice.
 */
export type StickyEvent =
  | { type: 'set'; assignment: StickyAssignment; prev?: string | null }
  | { type: 'delete'; stickyId: string; tier: string; clientId?: string; prev?: string | null };

export interface EngineOptions {
  tiers: readonly Tier[];
  /** Default: the first tier. */
  defaultTier?: string;
  staleMinutes: number;
  pendingTimeoutSeconds: number;
  stickyAffinity: boolean;
  healthCheckEnabled: boolean;
  /** ms; default Date.now. */
  now?: () => number;
  /** The store persists these (write-behind). Called synchronously; must not throw. */
  onStickyChange?: (e: StickyEvent) => void;
  /**
   * 'indexed' (default): precomputed per-tier scores, score-ordered lists and a spatial index.
   * 'scan': the straightforward reference scan that evaluates every backend per request
   * (kept as the benchmark baseline and as a test oracle).
   */
  strategy?: 'indexed' | 'scan';
  /** routing_distance (default haversine): 'measured' scores by the region's probe RTT where known. */
  routingDistance?: 'haversine' | 'measured';
  /** rtt_km_per_ms (default 100): km of distance per ms of measured round trip. */
  rttKmPerMs?: number;
  /** region_probe_interval_seconds × 1000 (default 30 000): matrix entries expire after 3 of these. */
  regionProbeIntervalMs?: number;
}

/** Resources held by live reservations on one backend. */
export interface PendingTotals {
  reservations: number;
  vcpu: number;
  memoryGb: number;
  storageGb: number;
  gpuDeviceIds: number[];
}

/** A registration with every optional field filled in (null, or [] for endpoints, when not given). */
export type RegisteredBackend = { [K in keyof BackendRegistration]-?: Exclude<BackendRegistration[K], undefined> };

/** A backend as GET /clients shows it. */
export interface BackendView extends RegisteredBackend {
  stats: BackendStats | null;
  health: HealthStatus;
  latencyMs: number | null;
  lastSeen: number;
  /** Not stale (last seen within stale_minutes). */
  isActive: boolean;
  pending: PendingTotals;
}

export interface ReservationView {
  id: string;
  clientId: string;
  tier: string;
  vcpu: number;
  memoryGb: number;
  storageGb: number;
  gpuDeviceIds: number[];
  stickyId: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface EngineCounts {
  total: number;
  active: number;
  stale: number;
  unhealthy: number;
  reservations: number;
}
