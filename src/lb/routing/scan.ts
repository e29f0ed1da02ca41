/**
 * The reference evaluation: decides, from the raw stats, whether one backend passes a tier's
 * filter and, if so, its score terms. Straightforward on purpose (it counts and sorts the cores
 * per call): it is the baseline the benchmark compares the index against, the oracle the property
 * tests check the indexed engine with, and what `explain` prints.
 */
import type { GeoPoint } from './geo.js';
import type { RegionRow } from './latency-matrix.js';
import { distanceFor } from './measured-search.js';
import { CORE_AVAILABLE_BELOW_PCT, enough, freeVram, gpuQualifies, gpuReserved } from './filter.js';
import type { Credit, PendingState } from './filter.js';
import {
  coreUsage,
  gpuTerm,
  meanGpuUtilisation,
  meanOfLeastLoaded,
  memoryUsedPct,
  nonDistanceScore,
  totalScore,
} from './score.js';
import type { BackendStats, FilterReason, HealthStatus, ScoreTerms, Tier } from './types.js';

export interface ScanBackend {
  readonly id: string;
  readonly stats: BackendStats | null;
  readonly lastSeen: number;
  readonly health: HealthStatus;
  readonly latencyMs: number | null;
  readonly geo: GeoPoint | null;
  readonly pending: PendingState;
}

export interface ScanContext {
  now: number;
  staleMs: number;
  healthCheckEnabled: boolean;
  exclude: ReadonlySet<string> | null;
  /** The request's own de-duplicated reservation (credited only on its backend). */
  credit: Credit | null;
  /** Build human-readable details for explain. */
  detail: boolean;
  /** `routing_distance: measured`: the request region's fresh matrix row (null: haversine only). */
  rtt?: RegionRow | null;
  /** rtt_km_per_ms: km of distance per ms of measured round trip. */
  kmPerMs?: number;
}

// Module-level references: under tsx, every use of an imported binding goes through a getter,
// which would dominate this per-core loop and make the baseline look slower than it is.
const BUSY_PCT = CORE_AVAILABLE_BELOW_PCT;
const sanitizeCore = coreUsage;

export type Evaluation =
  | { ok: true; terms: ScoreTerms }
  | { ok: false; reason: FilterReason; detail?: string };

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(2));

function fail(ctx: ScanContext, reason: FilterReason, detail: () => string): Evaluation {
  return ctx.detail ? { ok: false, reason, detail: detail() } : { ok: false, reason };
}

export function isStale(lastSeen: number, now: number, staleMs: number): boolean {
  return now - lastSeen > staleMs;
}

export function evaluateBackend(b: ScanBackend, tier: Tier, req: GeoPoint | null, ctx: ScanContext): Evaluation {
  if (ctx.exclude !== null && ctx.exclude.has(b.id)) return fail(ctx, 'excluded', () => 'excluded by the request');
  const s = b.stats;
  if (s === null) return fail(ctx, 'no_stats', () => 'no stats reported yet');
  if (isStale(b.lastSeen, ctx.now, ctx.staleMs)) {
    return fail(ctx, 'stale', () => `last seen ${fmt((ctx.now - b.lastSeen) / 1000)} s ago (stale after ${fmt(ctx.staleMs / 1000)} s)`);
  }
  if (ctx.healthCheckEnabled && b.health === 'unhealthy') return fail(ctx, 'unhealthy', () => 'health checks report it unhealthy');
  if (!(Number.isFinite(s.memoryTotalGb) && s.memoryTotalGb > 0 && Number.isFinite(s.memoryUsedGb) && Number.isFinite(s.memoryAvailGb))) {
    return fail(ctx, 'memory', () => `memory total is ${String(s.memoryTotalGb)} GB`);
  }
  const p = b.pending;
  const c = ctx.credit !== null && ctx.credit.clientId === b.id ? ctx.credit : null;

  const cores = s.cpuUsage;
  const usage = new Float64Array(cores.length);
  let coresFree = 0;
  for (let i = 0; i < usage.length; i++) {
    const u = sanitizeCore(cores[i]!);
    usage[i] = u;
    if (u < BUSY_PCT) coresFree++;
  }
  const pCpu = c === null ? p.cpu : p.cpu - c.vcpu;
  if (!enough(coresFree, pCpu, tier.vcpu)) {
    return fail(ctx, 'cpu', () => `${coresFree} cores below ${CORE_AVAILABLE_BELOW_PCT}% − ${fmt(pCpu)} pending vCPU < ${tier.vcpu} needed`);
  }
  const pMem = c === null ? p.mem : p.mem - c.mem;
  if (!enough(s.memoryAvailGb, pMem, tier.memory_gb)) {
    return fail(ctx, 'memory', () => `${fmt(s.memoryAvailGb)} GB available − ${fmt(pMem)} GB pending < ${fmt(tier.memory_gb)} GB needed`);
  }
  const pDisk = c === null ? p.disk : p.disk - c.disk;
  if (!enough(s.diskAvailGb, pDisk, tier.storage_gb)) {
    return fail(ctx, 'disk', () => `${fmt(s.diskAvailGb)} GB disk available − ${fmt(pDisk)} GB pending < ${fmt(tier.storage_gb)} GB needed`);
  }
  if (tier.gpu > 0) {
    let free = 0;
    for (const g of s.gpus) {
      if (gpuQualifies(freeVram(g.memoryTotalGb, g.memoryUsedGb), tier.gpu_memory_gb) && !gpuReserved(p, g.deviceId, c)) free++;
    }
    if (free < tier.gpu) {
      return fail(ctx, 'gpu', () => `${free} of ${s.gpus.length} GPUs have ≥ ${fmt(tier.gpu_memory_gb)} GB free VRAM and are not reserved < ${tier.gpu} needed`);
    }
  }

  const cpu = meanOfLeastLoaded(usage.sort(), tier.vcpu);
  const memory = memoryUsedPct(s.memoryUsedGb, s.memoryTotalGb);
  const gpu = gpuTerm(tier.gpu, tier.gpu > 0 ? meanGpuUtilisation(s.gpus) : 0);
  const latencyMs = ctx.healthCheckEnabled ? (b.latencyMs ?? 0) : 0;
  const distance = distanceFor(b.id, b.geo, req, ctx.rtt ?? null, ctx.kmPerMs ?? 0);
  const total = totalScore(distance, nonDistanceScore(cpu, memory, gpu, latencyMs));
  return { ok: true, terms: { distanceKm: distance, cpu, memory, gpu, latencyMs, total } };
}
