/** The answers `route` and `explain` give: a pick, an unknown tier, or why nothing fits. */
import type { BackendState } from './backend-state.js';
import { selectCompiled } from './endpoints.js';
import { emptyPending, type PendingState } from './filter.js';
import { evaluateBackend, isStale } from './scan.js';
import type { ScanContext } from './scan.js';
import { REASON_ORDER, summarize } from './summary.js';
import type { GeoPoint } from './geo.js';
import type { DistanceInfo } from './measured-search.js';
import type { ExplainRow, FilterReason, HeldCapacity, RouteDecision, Tier } from './types.js';

export type NoCapacity = Extract<RouteDecision, { code: 'no_capacity' }>;
export type Picked = Extract<RouteDecision, { ok: true }>;

export function pickedDecision(
  b: BackendState,
  path: string | null | undefined,
  tier: string,
  reservationId: string,
  distanceKm: number | null,
  score: number,
  sticky: boolean,
  gpuDeviceIds: readonly number[],
): Picked {
  return {
    ok: true,
    clientId: b.id,
    hostname: b.reg.hostname,
    endpoint: selectCompiled(b.rules, b.reg.endpoint, path),
    reservationId,
    tier,
    distanceKm,
    score,
    sticky,
    gpuDeviceIds,
  };
}

export function unknownTierDecision(tier: string | null | undefined, knownTiers: string[]): RouteDecision {
  return { ok: false, code: 'unknown_tier', tier: tier ?? '', knownTiers };
}

const RESOURCE_REASONS: ReadonlySet<FilterReason> = new Set(['cpu', 'memory', 'disk', 'gpu']);
const NO_PENDING: PendingState = emptyPending();

/** Where the engine's reservations are: their timeout and the earliest expiry on some backends. */
export interface ReservationsPort {
  timeoutSeconds: number;
  earliestExpiryOn(on: ReadonlySet<PendingState>): number;
}

/** True when `b` lacks the tier's resources only because of its live reservations. */
function heldByReservations(b: BackendState, tier: Tier, ctx: ScanContext): boolean {
  if (b.pending.count === 0) return false;
  const unreserved = { id: b.id, stats: b.stats, lastSeen: b.lastSeen, health: b.health, latencyMs: b.latencyMs, geo: b.geo, pending: NO_PENDING };
  return evaluateBackend(unreserved, tier, null, { ...ctx, credit: null, detail: false }).ok;
}

/**
 * Why nothing fits: every backend's reason, counted, and the capacity reservations hold (backends that would
 * fit without them); plus until when that answer holds by time alone (the first moment a backend that is
 * fresh now turns stale).
 */
export function noCapacityDecision(
  fleet: ReadonlyMap<string, BackendState>,
  tier: Tier,
  ctx: ScanContext,
  book: ReservationsPort,
): { decision: NoCapacity; validUntil: number } {
  const counts: Partial<Record<FilterReason, number>> = {};
  let validUntil = Infinity;
  const holding = new Set<PendingState>();
  let reservations = 0;
  for (const b of fleet.values()) {
    const e = evaluateBackend(b, tier, null, ctx);
    // Only reached when nothing fits; an ok here would mean the engine's paths disagree.
    const reason: FilterReason = e.ok ? 'excluded' : e.reason;
    counts[reason] = (counts[reason] ?? 0) + 1;
    if (!isStale(b.lastSeen, ctx.now, ctx.staleMs)) validUntil = Math.min(validUntil, b.lastSeen + ctx.staleMs);
    if (RESOURCE_REASONS.has(reason) && heldByReservations(b, tier, ctx)) {
      holding.add(b.pending);
      reservations += b.pending.count;
    }
  }
  const held: HeldCapacity | null =
    holding.size === 0
      ? null
      : Object.freeze({ backends: holding.size, reservations, earliestExpiresAt: book.earliestExpiryOn(holding), timeoutSeconds: book.timeoutSeconds });
  const reasons: Partial<Record<FilterReason, number>> = {};
  for (const r of REASON_ORDER) if (counts[r] !== undefined) reasons[r] = counts[r];
  const total = fleet.size;
  const decision: NoCapacity = Object.freeze({
    ok: false as const,
    code: 'no_capacity' as const,
    tier: tier.name,
    total,
    reasons: Object.freeze(reasons),
    summary: summarize(total, reasons),
    held,
  });
  return { decision, validUntil };
}

/** Explain's rows: eligible backends by (total, id) with their score terms and distance, then the filtered ones by id. */
export function explainRows(
  fleet: ReadonlyMap<string, BackendState>,
  tier: Tier,
  q: GeoPoint | null,
  ctx: ScanContext,
  distance: (b: BackendState) => DistanceInfo,
): ExplainRow[] {
  const eligible: ExplainRow[] = [];
  const filtered: ExplainRow[] = [];
  for (const b of fleet.values()) {
    const e = evaluateBackend(b, tier, q, ctx);
    if (e.ok) eligible.push({ clientId: b.id, hostname: b.reg.hostname, eligible: true, terms: e.terms, distance: distance(b) });
    else filtered.push({ clientId: b.id, hostname: b.reg.hostname, eligible: false, reason: e.reason, ...(e.detail !== undefined ? { detail: e.detail } : {}) });
  }
  eligible.sort((a, b) => a.terms!.total - b.terms!.total || (a.clientId < b.clientId ? -1 : 1));
  filtered.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
  return [...eligible, ...filtered];
}
