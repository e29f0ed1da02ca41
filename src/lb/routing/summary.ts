/** The human summary of a no-capacity decision, e.g. "3 backends: 2 lack memory, 1 stale". */
import type { FilterReason } from './types.js';

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
