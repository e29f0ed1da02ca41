/**
 * System-owned monitors: monitors the server keeps by itself (the backend probes of
 * src/monitoring/probes/), not a user's. They are listed apart (GET /latency), left out of the
 * user's monitor list and counts, refused to user edits, and never alert. Pure.
 */

/** The owner of the built-in backend probe monitors. */
export const BACKEND_PROBE_OWNER = 'system:backend-probe';

export function isSystemMonitor(m: { owner: string }): boolean {
  return m.owner.startsWith('system:');
}
