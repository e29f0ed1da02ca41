/**
 * Score arithmetic shared by the indexed engine and the reference scan, so that both compute
 * bit-identical scores (the property tests compare their decisions).
 *
 * score = distance_km + cpu + memory_used_% + 1.5 × mean GPU utilisation (GPU tiers) + latency_ms
 *
 * - cpu: mean usage of the N least-loaded cores, N = tier.vcpu; all cores when N ≥ core count;
 *   0 when the tier asks for 0 vCPU (it will not run on any core) or the host reports no cores.
 * - memory: used / total × 100 (pending reservations are not counted: they affect the filter only).
 * - gpu: only for tiers with gpu > 0; the mean over devices that report a utilisation (unknown
 *   values are skipped; no known value ⇒ 0), weighted 1.5.
 * - latency: the health-check EWMA in ms; 0 when unknown or when health checks are disabled.
 * Lower is better.
 */
import type { GpuStats } from './types.js';

export const GPU_WEIGHT = 1.5;

/** Mean of the first `n` values of an ascending array (all of them when n ≥ length). */
export function meanOfLeastLoaded(sortedAsc: ArrayLike<number>, vcpu: number): number {
  const n = Math.min(vcpu, sortedAsc.length);
  if (n <= 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sortedAsc[i] as number;
  return sum / n;
}

/** The same mean from prefix sums (prefix[k] = sum of the k smallest values). */
export function cpuTermFromPrefix(prefix: Float64Array, vcpu: number): number {
  const n = Math.min(vcpu, prefix.length - 1);
  if (n <= 0) return 0;
  return (prefix[n] as number) / n;
}

export function memoryUsedPct(usedGb: number, totalGb: number): number {
  return (usedGb / totalGb) * 100;
}

/** Mean utilisation over the devices that report one; 0 when none does. */
export function meanGpuUtilisation(gpus: readonly GpuStats[]): number {
  let sum = 0;
  let count = 0;
  for (const g of gpus) {
    const u = g.utilizationPct;
    if (typeof u === 'number' && Number.isFinite(u)) {
      sum += u;
      count++;
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** The weighted GPU term for a tier. */
export function gpuTerm(tierGpus: number, meanUtil: number): number {
  return tierGpus > 0 ? GPU_WEIGHT * meanUtil : 0;
}

/** Every term but distance: depends only on the backend and the tier. */
export function nonDistanceScore(cpu: number, memory: number, gpu: number, latencyMs: number): number {
  return cpu + memory + gpu + latencyMs;
}

export function totalScore(distanceKm: number | null, nonDistance: number): number {
  return distanceKm === null ? nonDistance : distanceKm + nonDistance;
}

/** Sanitised per-core usage: a non-finite value counts as a busy core. */
export function coreUsage(v: number): number {
  return Number.isFinite(v) ? v : 100;
}
