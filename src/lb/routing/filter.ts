/**
 * Filter predicates shared by the indexed engine and the reference scan.
 *
 * A backend passes a tier when (pending = live reservations on it, minus the request's own
 * de-duplicated reservation when it sits on that backend):
 * - cpu:    (cores below 80 % usage) − pending vCPU ≥ tier.vcpu
 * - memory: memoryAvailGb − pending memory ≥ tier.memory_gb (and memoryTotalGb > 0)
 * - disk:   diskAvailGb − pending disk ≥ tier.storage_gb
 * - gpu:    (tier.gpu > 0 only) devices with free VRAM (total − used) ≥ tier.gpu_memory_gb that no
 *           live reservation holds ≥ tier.gpu. Checked per device, never as a sum.
 * A requirement of 0 always passes (nothing is consumed, so over-reservation elsewhere does not
 * matter). A device whose VRAM is unknown qualifies only for tiers that need 0 GB of VRAM.
 */

/** A core counts as available below this window-average usage. */
export const CORE_AVAILABLE_BELOW_PCT = 80;

export function enough(avail: number, pending: number, need: number): boolean {
  return need <= 0 || avail - pending >= need;
}

/** Free VRAM of a device in GB; NaN when unknown. */
export function freeVram(totalGb: number | null, usedGb: number | null): number {
  if (typeof totalGb !== 'number' || typeof usedGb !== 'number') return NaN;
  return totalGb - usedGb;
}

export function gpuQualifies(freeGb: number, needGb: number): boolean {
  return needGb <= 0 || freeGb >= needGb;
}

/** Resources held by live reservations on one backend (mutated by the reservation book). */
export interface PendingState {
  count: number;
  cpu: number;
  mem: number;
  disk: number;
  /** deviceId → number of live reservations holding it. */
  gpu: Map<number, number>;
}

export function emptyPending(): PendingState {
  return { count: 0, cpu: 0, mem: 0, disk: 0, gpu: new Map() };
}

/** The part of a reservation that the filter credits back to its own (sticky) request. */
export interface Credit {
  readonly clientId: string;
  readonly vcpu: number;
  readonly mem: number;
  readonly disk: number;
  readonly gpuDevices: readonly number[];
}

/** Whether `deviceId` is held by a reservation other than `credit`. */
export function gpuReserved(p: PendingState, deviceId: number, credit: Credit | null): boolean {
  let n = p.gpu.get(deviceId) ?? 0;
  if (n > 0 && credit !== null && credit.gpuDevices.includes(deviceId)) n--;
  return n > 0;
}
