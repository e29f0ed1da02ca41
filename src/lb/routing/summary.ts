/** The human summary of a no-capacity decision, e.g. "3 backends: 2 lack memory, 1 stale". */
import type { FilterReason, HeldCapacity } from './types.js';

/** Canonical order of reasons (also the order the filter checks them in). */
export const REASON_ORDER: readonly FilterReason[] = ['excluded', 'no_stats', 'stale', 'unhealthy', 'cpu', 'memory', 'disk', 'gpu'];

const PHRASE: Record<FilterReason, string> = {
  excluded: 'excluded',
  no_stats: 'no stats yet',
  stale: 'stale',
  unhealthy: 'unhealthy',
  cpu: 'lack CPU',
  memory: 'lack memory',
  disk: 'lack disk',
  gpu: 'lack GPU',
};

export function summarize(total: number, reasons: Partial<Record<FilterReason, number>>): string {
  if (total === 0) return 'no backends registered';
  const parts = REASON_ORDER.filter((r) => (reasons[r] ?? 0) > 0)
    .map((r) => ({ r, n: reasons[r] ?? 0 }))
    .sort((a, b) => b.n - a.n || REASON_ORDER.indexOf(a.r) - REASON_ORDER.indexOf(b.r))
    .map(({ r, n }) => `${n} ${PHRASE[r]}`);
  return `${total} backend${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** Seconds from `now` until the earliest held reservation expires (whole seconds, rounded up, ≥ 0). */
export function secondsUntilFree(h: HeldCapacity, now: number): number {
  return Math.max(0, Math.ceil((h.earliestExpiresAt - now) / 1000));
}

/**
 * What a no-capacity answer adds when live reservations hold the capacity (backends that would fit without
 * them): how many, when the earliest expires, and the two ways out, e.g. "2 reservations hold that capacity;
 * the earliest expires in 87 s (pending_allocation_timeout_seconds: 120). Release one early with
 * DELETE /reservations/{id} (the reservation_id of its /route answer), or lower
 * pending_allocation_timeout_seconds".
 */
export function heldCapacityHint(h: HeldCapacity, now: number): string {
  const n = `${h.reservations} reservation${h.reservations === 1 ? '' : 's'}`;
  const what = h.backends === 1 ? 'that capacity' : `the capacity of ${h.backends} backends`;
  return (
    `${n} ${h.reservations === 1 ? 'holds' : 'hold'} ${what}; the earliest expires in ${secondsUntilFree(h, now)} s ` +
    `(pending_allocation_timeout_seconds: ${h.timeoutSeconds}). Release one early with DELETE /reservations/{id} ` +
    `(the reservation_id of its /route answer), or lower pending_allocation_timeout_seconds`
  );
}

/** The error text of a no-capacity answer (/route and the proxy): the reasons, then the reservations' share. */
export function noCapacityMessage(d: { tier: string; summary: string; held: HeldCapacity | null }, now: number): string {
  const base = `no backend available for tier "${d.tier}": ${d.summary}`;
  return d.held === null ? base : `${base}. ${heldCapacityHint(d.held, now)}`;
}

/** The `held_by_reservations` field of a no-capacity answer (wire names; absent when reservations hold nothing). */
export function heldCapacityJson(h: HeldCapacity, now: number): Record<string, unknown> {
  return {
    backends: h.backends,
    reservations: h.reservations,
    earliest_expires_in_seconds: secondsUntilFree(h, now),
    earliest_expires_at: new Date(h.earliestExpiresAt).toISOString(),
    pending_allocation_timeout_seconds: h.timeoutSeconds,
  };
}
