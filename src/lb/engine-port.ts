import type {
  BackendRegistration,
  BackendStats,
  BackendView,
  EngineCounts,
  ExplainResult,
  HealthStatus,
  RouteDecision,
  ReservationView,
  RouteRequest,
  StickyAssignment,
} from './routing/types.js';
import type { MeasuredDistance } from './routing/measured-distance.js';

/**
 * The part of the routing engine (src/lb/routing/engine.ts `RoutingEngine`) the HTTP layer uses. Handlers depend
 * on this narrow interface so they can be read (and reasoned about) without the engine's internals.
 */
export interface RoutingEnginePort {
  register(reg: BackendRegistration, lastSeenMs?: number): void;
  reportStats(clientId: string, stats: BackendStats, lastSeenMs?: number): boolean;
  setHealth(clientId: string, status: HealthStatus, latencyMs?: number | null): void;
  route(req: RouteRequest): RouteDecision;
  release(reservationId: string): boolean;
  explain(req: RouteRequest): ExplainResult;
  tierNames(): string[];
  readonly defaultTier: string;
  backend(clientId: string): BackendView | undefined;
  backends(): BackendView[];
  counts(): EngineCounts;
  stickyAssignments(): StickyAssignment[];
  /** The assignment of (stickyId, tier), if any (a copy). */
  stickyOf(stickyId: string, tier: string): StickyAssignment | undefined;
  /** Removes a backend with its reservations and sticky assignments. */
  remove(clientId: string): boolean;
  restoreSticky(list: readonly StickyAssignment[]): void;
  clearReservations(): number;
  /** Live reservations (the fleet page lists them per backend). */
  reservations(): ReservationView[];
  purgeStale(olderThanMs?: number): string[];
  /** The latency matrix, region locations and routing_distance (src/lb/routing/measured-distance.ts). */
  readonly latency: Pick<MeasuredDistance, 'entries' | 'regions' | 'mode' | 'kmPerMs' | 'recordRtt'>;
}
