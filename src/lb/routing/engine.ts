/**
 * The routing engine: route and explain over the fleet index (fleet-index.ts), with reservations
 * and sticky sessions, in memory.
 * Pure: no I/O, the clock is injected. `route()` picks and reserves in one synchronous call, so a
 * decision and its reservation are atomic (JS runs one call at a time).
 *
 * Speed (DESIGN.md "Speed"): every score term but distance depends only on (backend, tier), so it
 * is computed when stats arrive. Per tier the fleet index keeps the statically eligible backends
 * (those that pass the filter with no reservations, are not unhealthy and have not been found
 * stale) ordered by that score. A request without a location takes the first one that passes the
 * full filter (reservations, staleness, exclusions). A request with a location first takes the best
 * backend of unknown location the same way, then searches a spatial index nearest-first and stops
 * once the distance alone exceeds the best full score. Reservations change only the filter, never
 * the order. The `scan` strategy keeps the straightforward per-request evaluation as a baseline.
 */
import { BackendState } from './backend-state.js';
import { explainRows, noCapacityDecision, pickedDecision, unknownTierDecision, type ReservationsPort } from './decision.js';
import type { NoCapacity } from './decision.js';
import { deriveStats } from './derived.js';
import { enough } from './filter.js';
import type { Credit } from './filter.js';
import { FleetIndex } from './fleet-index.js';
import type { FleetIndexView, TierIndex } from './fleet-index.js';
import { maybeGeoPoint, pruneChord2 } from './geo.js';
import type { GeoPoint } from './geo.js';
import { chooseGpus, copyGpus, freeGpuCount, keptGpus } from './gpus.js';
import type { RegionRow } from './latency-matrix.js';
import { LocatedSearch } from './located-search.js';
import { MeasuredDistance } from './measured-distance.js';
import { distanceFor, distanceInfo, pickMeasured } from './measured-search.js';
import { ReservationBook, stickyKey } from './reservations.js';
import { evaluateBackend, isStale } from './scan.js';
import type { ScanContext } from './scan.js';
import { totalScore } from './score.js';
import { StickyTable } from './sticky.js';
import type {
  BackendRegistration,
  BackendStats,
  BackendView,
  EngineCounts,
  EngineOptions,
  ExplainResult,
  HealthStatus,
  ReservationView,
  RouteDecision,
  RouteRequest,
  StickyAssignment,
  StickyEvent,
  Tier,
} from './types.js';

/** EWMA smoothing factor for latency samples. */
export const LATENCY_EWMA_ALPHA = 0.3;

interface FailCacheEntry {
  version: number;
  validUntil: number;
  decision: NoCapacity;
}

const NONE = 0;
const FRESH = 1;
const STICKY = 2;

/** A random per-engine prefix for reservation ids: 12 hex digits and '-' (Web Crypto, no Node module). */
function reservationIdPrefix(): string {
  let hex = '';
  for (const x of crypto.getRandomValues(new Uint8Array(6))) hex += x.toString(16).padStart(2, '0');
  return `${hex}-`;
}

function validateTiers(tiers: readonly Tier[], defaultTier: string | undefined): string {
  if (tiers.length === 0) throw new Error('routing: at least one tier is required');
  const names = new Set<string>();
  for (const t of tiers) {
    if (names.has(t.name)) throw new Error(`routing: duplicate tier "${t.name}"`);
    names.add(t.name);
  }
  const def = defaultTier ?? tiers[0]!.name;
  if (!names.has(def)) throw new Error(`routing: default tier "${def}" is not a configured tier`);
  return def;
}

export class RoutingEngine {
  private readonly nowFn: () => number;
  private readonly staleMs: number;
  private readonly healthCheckEnabled: boolean;
  private readonly stickyAffinity: boolean;
  private readonly scan: boolean;
  private defaultName: string;
  private readonly index: FleetIndex;
  /** The index's map of every backend by id (the same object). */
  private readonly fleet: Map<string, BackendState>;
  private readonly book: ReservationBook;
  /** What a no-capacity answer says about reservations (their timeout, the earliest expiry). */
  private readonly reservationsPort: ReservationsPort;
  private readonly sticky: StickyTable;
  /** Bumped on every change that can affect the filter. */
  private version = 0;
  private readonly failCache = new Map<string, FailCacheEntry>();
  private readonly located: LocatedSearch;
  /** fitsIndexed bound once (not a closure per request). */
  private readonly fits = (b: BackendState): boolean => this.fitsIndexed(b);
  private staleFound: BackendState[] = [];
  /** Region × backend probe round trips and region locations (fed by src/monitoring/probes/). */
  readonly latency: MeasuredDistance;

  // Per-request scratch for the indexed filter (route() is synchronous and not re-entered mid-pick).
  private curRt: TierIndex | null = null;
  private curNow = 0;
  private curEx: ReadonlySet<string> | null = null;
  private curCredit: Credit | null = null;
  /** Measured mode: the request region's fresh matrix row, else null (haversine only). */
  private curRow: RegionRow<BackendState> | null = null;
  // The last pick: backend, distance and score.
  private pickB: BackendState | null = null;
  private pickD: number | null = null;
  private pickScore = 0;

  constructor(opts: EngineOptions) {
    this.nowFn = opts.now ?? Date.now;
    this.staleMs = opts.staleMinutes * 60_000;
    this.healthCheckEnabled = opts.healthCheckEnabled;
    this.stickyAffinity = opts.stickyAffinity;
    this.scan = opts.strategy === 'scan';
    const emit = opts.onStickyChange;
    this.sticky = new StickyTable(emit === undefined ? () => {} : (e: StickyEvent) => emit(e));
    this.book = new ReservationBook(opts.pendingTimeoutSeconds * 1000, reservationIdPrefix());
    const book = this.book;
    this.reservationsPort = { timeoutSeconds: opts.pendingTimeoutSeconds, earliestExpiryOn: (on) => book.earliestExpiryOn(on) };
    this.located = new LocatedSearch(this.fits);
    this.defaultName = validateTiers(opts.tiers, opts.defaultTier);
    this.index = new FleetIndex(this.healthCheckEnabled, opts.tiers);
    this.fleet = this.index.fleet;
    this.latency = new MeasuredDistance(opts, this.nowFn, (id) => this.fleet.get(id));
  }

  // ---------------------------------------------------------------- measured distance

  /** The request's region and, in measured mode, its fresh row of the matrix (in curRow). */
  private regionOf(req: RouteRequest, q: GeoPoint | null, now: number): string | null {
    const region = this.latency.regionOf(req.region, q);
    this.curRow = this.latency.rowFor(region, now);
    return region;
  }

  // ---------------------------------------------------------------- tiers

  setTiers(tiers: readonly Tier[], defaultTier?: string): void {
    this.defaultName = validateTiers(tiers, defaultTier);
    this.index.install(tiers);
    this.version++;
    this.failCache.clear();
  }

  tierNames(): string[] {
    return this.index.tiers.map((t) => t.tier.name);
  }

  get defaultTier(): string {
    return this.defaultName;
  }

  private resolveTier(name: string | null | undefined): TierIndex | undefined {
    return this.index.tier(name === null || name === undefined || name === '' ? this.defaultName : name);
  }

  // ---------------------------------------------------------------- fleet updates

  /** Registers a new backend or updates one (keeping its stats, health and reservations). */
  register(reg: BackendRegistration, lastSeenMs?: number): void {
    const seen = lastSeenMs ?? this.nowFn();
    let b = this.fleet.get(reg.clientId);
    if (b === undefined) {
      b = new BackendState(reg, this.index.tiers.length, seen);
      this.fleet.set(b.id, b);
    } else {
      b.setRegistration(reg);
      b.lastSeen = seen;
    }
    b.staleOut = false;
    this.index.setLocation(b, maybeGeoPoint(reg.lat, reg.lon));
    this.index.reindex(b);
    this.version++;
  }

  /** Applies a stats report. false = unknown client (the caller answers 404). */
  reportStats(clientId: string, stats: BackendStats, lastSeenMs?: number): boolean {
    const b = this.fleet.get(clientId);
    if (b === undefined) return false;
    b.stats = stats;
    b.d = deriveStats(stats);
    b.lastSeen = lastSeenMs ?? this.nowFn();
    b.staleOut = false;
    const g = maybeGeoPoint(stats.lat, stats.lon);
    if (g !== null) this.index.setLocation(b, g);
    this.index.reindex(b);
    this.version++;
    return true;
  }

  /**
   * Sets the health status (and, when given, the latency: a number sets it, null clears it).
   * Turning unhealthy drops the backend's sticky assignments (emitting delete events).
   */
  setHealth(clientId: string, status: HealthStatus, latencyMs?: number | null): boolean {
    const b = this.fleet.get(clientId);
    if (b === undefined) return false;
    b.health = status;
    if (latencyMs !== undefined) b.latencyMs = typeof latencyMs === 'number' && Number.isFinite(latencyMs) && latencyMs >= 0 ? latencyMs : null;
    if (status === 'unhealthy') this.sticky.deleteClient(clientId);
    this.index.reindex(b);
    this.version++;
    return true;
  }

  /** Feeds a latency sample into the EWMA (α = 0.3; the first sample is taken as is). */
  recordLatency(clientId: string, sampleMs: number): boolean {
    const b = this.fleet.get(clientId);
    if (b === undefined || !Number.isFinite(sampleMs) || sampleMs < 0) return false;
    b.latencyMs = b.latencyMs === null ? sampleMs : LATENCY_EWMA_ALPHA * sampleMs + (1 - LATENCY_EWMA_ALPHA) * b.latencyMs;
    this.index.reindex(b);
    return true;
  }

  /** Removes a backend with its reservations and sticky assignments (emitting delete events). */
  remove(clientId: string): boolean {
    const b = this.fleet.get(clientId);
    if (b === undefined) return false;
    const pending = b.pending;
    this.book.clear(pending);
    this.sticky.deleteClient(clientId);
    this.index.remove(b);
    this.latency.removeBackend(clientId);
    this.version++;
    return true;
  }

  /** Removes backends not seen for `olderThanMs` (default: stale_minutes). Returns their ids. */
  purgeStale(olderThanMs?: number): string[] {
    const now = this.nowFn();
    const limit = olderThanMs ?? this.staleMs;
    const ids = [...this.fleet.values()].filter((b) => isStale(b.lastSeen, now, limit)).map((b) => b.id);
    ids.sort();
    for (const id of ids) this.remove(id);
    return ids;
  }

  // ---------------------------------------------------------------- reservations

  private sweepAt(now: number): void {
    if (this.book.nextExpiry() <= now && this.book.sweep(now) > 0) this.version++;
  }

  /** Expires due reservations now. Returns how many expired. */
  sweep(): number {
    const n = this.book.sweep(this.nowFn());
    if (n > 0) this.version++;
    return n;
  }

  /** Releases a reservation. false when unknown, already released or expired. */
  release(reservationId: string): boolean {
    this.sweepAt(this.nowFn());
    if (!this.book.release(reservationId)) return false;
    this.version++;
    return true;
  }

  /** Drops every reservation (admin purge-pending). Returns how many. */
  clearReservations(): number {
    const n = this.book.clear();
    this.version++;
    return n;
  }

  reservations(): ReservationView[] {
    this.sweepAt(this.nowFn());
    return this.book.list();
  }

  // ---------------------------------------------------------------- routing

  /** Picks a backend and reserves the tier's resources on it, atomically. */
  route(req: RouteRequest): RouteDecision {
    const now = this.nowFn();
    this.sweepAt(now);
    const rt = this.resolveTier(req.tier);
    if (rt === undefined) return unknownTierDecision(req.tier, this.tierNames());
    const name = rt.tier.name;
    const stickyId = req.stickyId !== null && req.stickyId !== undefined && req.stickyId !== '' ? req.stickyId : null;
    const key = stickyId === null ? null : stickyKey(stickyId, name);
    const credit = key === null ? null : (this.book.byStickyKey(key) ?? null);
    const ex = req.exclude !== undefined && req.exclude.size > 0 ? req.exclude : null;

    if (ex === null && credit === null) {
      const c = this.failCache.get(name);
      if (c !== undefined && c.version === this.version && now < c.validUntil) return c.decision;
    }

    const q = maybeGeoPoint(req.lat, req.lon);
    if (this.latency.measured) this.regionOf(req, q, now);
    const kind = this.choose(rt, q, now, ex, credit, stickyId, this.scan);
    this.curRow = null;
    this.flushStale(now);
    if (kind === NONE) return this.noCapacity(rt, now, ex, credit, true);
    const b = this.pickB!;
    this.pickB = null;
    const distance = this.pickD;
    const score = this.pickScore;

    let id: string;
    let gpus: readonly number[];
    if (credit !== null && credit.clientId === b.id) {
      // De-duplicated: the session keeps its reservation (same id), with a fresh expiry.
      this.book.refresh(credit, now);
      const kept = keptGpus(b.d!, rt.tier, b.pending, credit);
      if (kept !== credit.gpuDevices) this.book.retargetGpus(credit, kept);
      id = credit.id;
      gpus = kept;
    } else {
      if (credit !== null) this.book.release(credit.id);
      const tier = rt.tier;
      gpus = chooseGpus(b.d!, tier, b.pending);
      id = this.book.add(
        {
          clientId: b.id,
          tier: name,
          vcpu: tier.vcpu,
          mem: tier.memory_gb,
          disk: tier.storage_gb,
          gpuDevices: gpus,
          stickyId,
          key,
          pending: b.pending,
        },
        now,
      );
      this.version++;
    }
    if (stickyId !== null) {
      const a = this.sticky.get(stickyId, name);
      if (a !== undefined && a.clientId === b.id) this.sticky.touch(a, now);
      else this.sticky.assign(stickyId, name, b.id, now);
    }
    return pickedDecision(b, req.path, name, id, distance, score, kind === STICKY, copyGpus(gpus));
  }

  /** For each backend, why it is filtered out or its score terms; plus the decision. Reserves nothing. */
  explain(req: RouteRequest): ExplainResult {
    const now = this.nowFn();
    this.sweepAt(now);
    const rt = this.resolveTier(req.tier);
    if (rt === undefined) return { tier: req.tier ?? '', routingDistance: this.latency.mode, region: null, rows: [], decision: unknownTierDecision(req.tier, this.tierNames()) };
    const name = rt.tier.name;
    const stickyId = req.stickyId !== null && req.stickyId !== undefined && req.stickyId !== '' ? req.stickyId : null;
    const credit = stickyId === null ? null : (this.book.byStickyKey(stickyKey(stickyId, name)) ?? null);
    const ex = req.exclude !== undefined && req.exclude.size > 0 ? req.exclude : null;
    const q = maybeGeoPoint(req.lat, req.lon);
    const region = this.regionOf(req, q, now);
    const row = this.curRow;
    const rows = explainRows(this.fleet, rt.tier, q, this.scanContext(now, ex, credit, true), (b) => distanceInfo(b, q, region, row, now));

    let decision: RouteDecision;
    const kind = this.choose(rt, q, now, ex, credit, stickyId, true);
    if (kind === NONE) decision = this.noCapacity(rt, now, ex, credit, false);
    else {
      const b = this.pickB!;
      this.pickB = null;
      const gpus = copyGpus(credit !== null && credit.clientId === b.id ? keptGpus(b.d!, rt.tier, b.pending, credit) : chooseGpus(b.d!, rt.tier, b.pending));
      decision = pickedDecision(b, req.path, name, '', this.pickD, this.pickScore, kind === STICKY, gpus);
    }
    this.curRow = null;
    return { tier: name, routingDistance: this.latency.mode, region, rows, decision };
  }

  /**
   * Sticky reuse, then affinity, then a fresh pick. Sets pickB/pickD/pickScore; returns NONE,
   * FRESH or STICKY. Mutates nothing but index housekeeping (stale backends found on the way).
   */
  private choose(
    rt: TierIndex,
    q: GeoPoint | null,
    now: number,
    ex: ReadonlySet<string> | null,
    credit: Credit | null,
    stickyId: string | null,
    scan: boolean,
  ): number {
    if (stickyId !== null) {
      const a = this.sticky.get(stickyId, rt.tier.name);
      if (a !== undefined && this.fitsOne(a.clientId, rt, q, now, ex, credit, scan)) return STICKY;
      if (this.stickyAffinity) {
        for (const o of this.sticky.others(stickyId, rt.tier.name)) {
          if (o.clientId === a?.clientId) continue;
          if (this.fitsOne(o.clientId, rt, q, now, ex, credit, scan)) return STICKY;
        }
      }
    }
    const b = scan ? this.pickScan(rt, q, this.scanContext(now, ex, credit, false)) : this.pickIndexed(rt, q, now, ex, credit);
    if (b === null) return NONE;
    this.pickB = b;
    return FRESH;
  }

  /** Whether one given backend passes the filter; on success sets pickB/pickD/pickScore. */
  private fitsOne(
    clientId: string,
    rt: TierIndex,
    q: GeoPoint | null,
    now: number,
    ex: ReadonlySet<string> | null,
    credit: Credit | null,
    scan: boolean,
  ): boolean {
    const b = this.fleet.get(clientId);
    if (b === undefined) return false;
    if (scan) {
      const e = evaluateBackend(b, rt.tier, q, this.scanContext(now, ex, credit, false));
      if (!e.ok) return false;
      this.pickB = b;
      this.pickD = e.terms.distanceKm;
      this.pickScore = e.terms.total;
      return true;
    }
    this.setCurrent(rt, now, ex, credit);
    if (!this.fitsIndexed(b)) return false;
    const d = distanceFor(b.id, b.geo, q, this.curRow, this.latency.kmPerMs);
    this.pickB = b;
    this.pickD = d;
    this.pickScore = totalScore(d, b.score[rt.slot]!);
    return true;
  }

  private setCurrent(rt: TierIndex, now: number, ex: ReadonlySet<string> | null, credit: Credit | null): void {
    this.curRt = rt;
    this.curNow = now;
    this.curEx = ex;
    this.curCredit = credit;
  }

  /** The full filter for an indexed backend under the current request (curRt/curNow/…). */
  private fitsIndexed(b: BackendState): boolean {
    const rt = this.curRt!;
    if (b.member[rt.slot] !== 1) return false;
    if (isStale(b.lastSeen, this.curNow, this.staleMs)) {
      this.staleFound.push(b);
      return false;
    }
    if (this.curEx !== null && this.curEx.has(b.id)) return false;
    const p = b.pending;
    if (p.count === 0) return true;
    const cr = this.curCredit;
    const c = cr !== null && cr.clientId === b.id ? cr : null;
    const d = b.d!;
    const tier = rt.tier;
    if (!enough(d.coresFree, c === null ? p.cpu : p.cpu - c.vcpu, tier.vcpu)) return false;
    if (!enough(d.memAvail, c === null ? p.mem : p.mem - c.mem, tier.memory_gb)) return false;
    if (!enough(d.diskAvail, c === null ? p.disk : p.disk - c.disk, tier.storage_gb)) return false;
    if (tier.gpu > 0 && freeGpuCount(d, tier.gpu_memory_gb, p, c) < tier.gpu) return false;
    return true;
  }

  private pickIndexed(rt: TierIndex, q: GeoPoint | null, now: number, ex: ReadonlySet<string> | null, credit: Credit | null): BackendState | null {
    this.setCurrent(rt, now, ex, credit);
    const slot = rt.slot;
    const list = q === null ? rt.all.items : rt.unlocated.items;
    const row = this.curRow;
    if (row !== null) {
      const best = pickMeasured(this.located, rt.slot, q, list, row, this.index, this.latency.kmPerMs, this.fits);
      if (best !== null) {
        this.pickD = this.located.bestD;
        this.pickScore = this.located.bestScore;
      }
      return best;
    }
    let first: BackendState | null = null;
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      if (this.fitsIndexed(b)) {
        first = b;
        break;
      }
    }
    if (q === null) {
      if (first !== null) {
        this.pickD = null;
        this.pickScore = first.score[slot]!;
      }
      return first;
    }
    const v = this.located;
    v.slot = slot;
    v.q = q;
    v.best = first;
    v.bestScore = first === null ? Infinity : first.score[slot]!;
    v.bestD = null;
    v.thr2 = pruneChord2(v.bestScore);
    this.index.kd.search(slot, q.x, q.y, q.z, v);
    const best = v.best;
    v.best = null;
    v.q = null;
    if (best !== null) {
      this.pickD = v.bestD;
      this.pickScore = v.bestScore;
    }
    return best;
  }

  private pickScan(rt: TierIndex, q: GeoPoint | null, ctx: ScanContext): BackendState | null {
    let best: BackendState | null = null;
    let bestD: number | null = null;
    let bestScore = Infinity;
    for (const b of this.fleet.values()) {
      const e = evaluateBackend(b, rt.tier, q, ctx);
      if (!e.ok) continue;
      const s = e.terms.total;
      if (best === null || s < bestScore || (s === bestScore && b.id < best.id)) {
        best = b;
        bestScore = s;
        bestD = e.terms.distanceKm;
      }
    }
    if (best !== null) {
      this.pickD = bestD;
      this.pickScore = bestScore;
    }
    return best;
  }

  /** Takes backends found stale during a pick out of the index until they are seen again. */
  private flushStale(now: number): void {
    if (this.staleFound.length === 0) return;
    const found = this.staleFound;
    this.staleFound = [];
    for (const b of found) {
      if (b.staleOut || !isStale(b.lastSeen, now, this.staleMs) || this.fleet.get(b.id) !== b) continue;
      b.staleOut = true;
      this.index.reindex(b);
    }
  }

  private scanContext(now: number, ex: ReadonlySet<string> | null, credit: Credit | null, detail: boolean): ScanContext {
    return { now, staleMs: this.staleMs, healthCheckEnabled: this.healthCheckEnabled, exclude: ex, credit, detail, rtt: this.curRow, kmPerMs: this.latency.kmPerMs };
  }

  /** Why nothing fits: every backend's reason, counted. Cached while nothing relevant changes. */
  private noCapacity(rt: TierIndex, now: number, ex: ReadonlySet<string> | null, credit: Credit | null, cache: boolean): NoCapacity {
    const { decision, validUntil } = noCapacityDecision(this.fleet, rt.tier, this.scanContext(now, ex, credit, false), this.reservationsPort);
    if (cache && ex === null && credit === null) this.failCache.set(rt.tier.name, { version: this.version, validUntil, decision });
    return decision;
  }

  // ---------------------------------------------------------------- sticky sessions

  stickyAssignments(): StickyAssignment[] {
    return this.sticky.list();
  }

  stickyOf(stickyId: string, tier: string): StickyAssignment | undefined {
    const a = this.sticky.get(stickyId, tier);
    return a === undefined ? undefined : { ...a };
  }

  /** Restores persisted assignments (at startup, or adopted from another replica); emits no events. */
  restoreSticky(list: readonly StickyAssignment[]): void {
    for (const a of list) this.sticky.put(a, false);
  }

  /** Drops assignments unused for `olderThanMs` (emitting delete events). Returns how many. */
  pruneSticky(olderThanMs: number): number {
    return this.sticky.prune(this.nowFn() - olderThanMs);
  }

  // ---------------------------------------------------------------- views

  /** A read-only view of the fleet index, for consistency checks (test/support/verify-index.ts). */
  indexView(): FleetIndexView {
    return this.index.view();
  }

  backend(clientId: string): BackendView | undefined {
    const b = this.fleet.get(clientId);
    return b === undefined ? undefined : b.view(!isStale(b.lastSeen, this.nowFn(), this.staleMs));
  }

  /** All backends ordered by clientId (for GET /clients). */
  backends(): BackendView[] {
    const now = this.nowFn();
    this.sweepAt(now);
    return [...this.fleet.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((b) => b.view(!isStale(b.lastSeen, now, this.staleMs)));
  }

  counts(): EngineCounts {
    const now = this.nowFn();
    this.sweepAt(now);
    let stale = 0;
    let unhealthy = 0;
    for (const b of this.fleet.values()) {
      if (isStale(b.lastSeen, now, this.staleMs)) stale++;
      if (b.health === 'unhealthy') unhealthy++;
    }
    const total = this.fleet.size;
    return { total, active: total - stale, stale, unhealthy, reservations: this.book.size };
  }
}
