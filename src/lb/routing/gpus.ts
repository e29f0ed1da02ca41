/** GPU device counting and choice for a tier: which devices qualify, and which a reservation takes. */
import type { DerivedStats } from './derived.js';
import { gpuQualifies, gpuReserved } from './filter.js';
import type { Credit, PendingState } from './filter.js';
import { NO_GPUS } from './reservations.js';
import type { Tier } from './types.js';

/** Devices with ≥ needGb free VRAM that no reservation (other than `c`) holds; p = null counts none held. */
export function freeGpuCount(d: DerivedStats, needGb: number, p: PendingState | null, c: Credit | null): number {
  let n = 0;
  const ids = d.gpuIds;
  for (let i = 0; i < ids.length; i++) {
    if (gpuQualifies(d.gpuFree[i]!, needGb) && (p === null || !gpuReserved(p, ids[i]!, c))) n++;
  }
  return n;
}

/**
 * The devices a reservation takes: qualifying and not held by another reservation (`own`'s devices
 * count as free), least utilised first, then by id.
 */
export function chooseGpus(d: DerivedStats, tier: Tier, p: PendingState, own: Credit | null = null): readonly number[] {
  if (tier.gpu <= 0) return NO_GPUS;
  const cand: number[] = [];
  for (let i = 0; i < d.gpuIds.length; i++) {
    if (gpuQualifies(d.gpuFree[i]!, tier.gpu_memory_gb) && !gpuReserved(p, d.gpuIds[i]!, own)) cand.push(i);
  }
  const util = (i: number): number => {
    const u = d.gpuUtil[i]!;
    return Number.isNaN(u) ? Infinity : u;
  };
  cand.sort((a, b) => util(a) - util(b) || d.gpuIds[a]! - d.gpuIds[b]! || a - b);
  return cand.slice(0, tier.gpu).map((i) => d.gpuIds[i]!);
}

/** A decision's own copy of a reservation's devices (the reservation's list changes on retarget). */
export function copyGpus(ids: readonly number[]): readonly number[] {
  return ids.length === 0 ? NO_GPUS : ids.slice();
}

/** The GPU devices a session keeps on refresh: its own while they all still qualify, else a new pick. */
export function keptGpus(d: DerivedStats, tier: Tier, p: PendingState, own: Credit): readonly number[] {
  if (tier.gpu <= 0) return own.gpuDevices;
  let still = own.gpuDevices.length === tier.gpu;
  for (const id of own.gpuDevices) {
    const i = d.gpuIds.indexOf(id);
    if (i < 0 || !gpuQualifies(d.gpuFree[i]!, tier.gpu_memory_gb)) still = false;
  }
  return still ? own.gpuDevices : chooseGpus(d, tier, p, own);
}
