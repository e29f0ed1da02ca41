/**
 * The bookkeeping rules of a monitor record that every database applies the same way: the fields a new monitor
 * starts with, and how an update moves its schedule (one definition for src/store/sqlite/ and src/store/postgres/).
 */
import type { MonitorRecord, MonitorSpec } from './monitoring.js';

export function newMonitorRecord(spec: MonitorSpec, meta: { id: string; actor: string; now: number; jitterSeed: number }): MonitorRecord {
  return {
    ...spec,
    id: meta.id,
    owner: meta.actor,
    jitter_seed: meta.jitterSeed | 0,
    last_scheduled_at: null,
    next_due_at: meta.now,
    created_at: meta.now,
    updated_at: meta.now,
    deleted_at: null,
  };
}

/**
 * `before` with `patch` applied at `now`: an interval change reschedules from the last run (never into the past),
 * and re-enabling makes the monitor due now.
 */
export function patchedMonitor(before: MonitorRecord, patch: Partial<MonitorSpec>, now: number): MonitorRecord {
  const after: MonitorRecord = { ...before, ...patch, updated_at: now };
  if (patch.interval_ms !== undefined && patch.interval_ms !== before.interval_ms) {
    after.next_due_at = before.last_scheduled_at === null ? now : Math.max(now, before.last_scheduled_at + after.interval_ms);
  }
  if (after.enabled && !before.enabled) after.next_due_at = now;
  return after;
}
