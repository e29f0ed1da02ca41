/**
 * Per-backend values derived once per stats report (not per request): sorted core usage as prefix
 * sums, the number of available cores, memory/disk availability, per-device free VRAM.
 */
import { CORE_AVAILABLE_BELOW_PCT, freeVram } from './filter.js';
import { coreUsage, memoryUsedPct, meanGpuUtilisation } from './score.js';
import type { BackendStats } from './types.js';

export interface DerivedStats {
  readonly cores: number;
  /** Cores below 80 % usage. */
  readonly coresFree: number;
  /** prefix[k] = sum of the k least-loaded cores' usage; length cores + 1. */
  readonly cpuPrefix: Float64Array;
  /** memoryTotalGb > 0 and the memory figures are finite. */
  readonly memValid: boolean;
  readonly memAvail: number;
  readonly diskAvail: number;
  /** used / total × 100 (only meaningful when memValid). */
  readonly memUsedPct: number;
  readonly gpuIds: readonly number[];
  /** Free VRAM per device in GB, NaN when unknown. */
  readonly gpuFree: Float64Array;
  /** Utilisation per device, NaN when unknown. */
  readonly gpuUtil: Float64Array;
  readonly gpuMeanUtil: number;
}

export function deriveStats(s: BackendStats): DerivedStats {
  const n = s.cpuUsage.length;
  const sorted = new Float64Array(n);
  let coresFree = 0;
  for (let i = 0; i < n; i++) {
    const u = coreUsage(s.cpuUsage[i] as number);
    sorted[i] = u;
    if (u < CORE_AVAILABLE_BELOW_PCT) coresFree++;
  }
  sorted.sort();
  const cpuPrefix = new Float64Array(n + 1);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += sorted[i] as number;
    cpuPrefix[i + 1] = sum;
  }
  const memValid =
    Number.isFinite(s.memoryTotalGb) &&
    s.memoryTotalGb > 0 &&
    Number.isFinite(s.memoryUsedGb) &&
    Number.isFinite(s.memoryAvailGb);
  const g = s.gpus.length;
  const gpuIds: number[] = new Array<number>(g);
  const gpuFree = new Float64Array(g);
  const gpuUtil = new Float64Array(g);
  for (let i = 0; i < g; i++) {
    const d = s.gpus[i]!;
    gpuIds[i] = d.deviceId;
    gpuFree[i] = freeVram(d.memoryTotalGb, d.memoryUsedGb);
    const u = d.utilizationPct;
    gpuUtil[i] = typeof u === 'number' && Number.isFinite(u) ? u : NaN;
  }
  return {
    cores: n,
    coresFree,
    cpuPrefix,
    memValid,
    memAvail: s.memoryAvailGb,
    diskAvail: s.diskAvailGb,
    memUsedPct: memValid ? memoryUsedPct(s.memoryUsedGb, s.memoryTotalGb) : NaN,
    gpuIds,
    gpuFree,
    gpuUtil,
    gpuMeanUtil: meanGpuUtilisation(s.gpus),
  };
}
