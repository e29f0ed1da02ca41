/**
 * The alert state machine of one monitor. Pure: every input carries its time (`at`, from the injected clock),
 * nothing here reads a clock or does I/O, and the state is a plain JSON-serialisable value.
 *
 * - Each region keeps consecutive failure and success counts. A region becomes *failing* after
 *   `failureThreshold` consecutive failed runs and stops failing after `successThreshold` consecutive passing
 *   runs (hysteresis: a run that flips up/down/up inside the thresholds changes nothing).
 * - The monitor is down while at least `quorumOf(rule, regions)` regions are failing.
 * - Degraded: up, and the p95 of the latencies of passing runs within `degradedWindowMs` exceeds
 *   `degradedLatencyMs` (at least DEGRADED_MIN_SAMPLES samples).
 * - Reminders: while down, one every `reminderIntervalMs` after the alert, at most `maxReminders`.
 * - Suppression: while the monitor is in a maintenance window or a monitor it depends on is down, it does not go
 *   down or degraded (and sends no reminders); it does once the suppression ends and the condition still holds.
 */
import { quorumOf, type AlertRule } from './rules.js';

export type AlertStatus = 'up' | 'down' | 'degraded';

export interface RegionCounts {
  fails: number;
  oks: number;
  failing: boolean;
}

export interface MonitorAlertState {
  status: AlertStatus;
  regions: Record<string, RegionCounts>;
  /** When the current down (or degraded) state began; null while up. */
  since: number | null;
  /** First failed run of the current failure streak (for the incident timeline). */
  firstFailureAt: number | null;
  /** When the last alert or reminder went out for the current down state. */
  lastNotifiedAt: number | null;
  remindersSent: number;
  /** Latencies of passing runs, oldest first: [at, ms]. */
  samples: [number, number][];
}

export type AlertEventKind = 'down' | 'resolved' | 'degraded' | 'recovered' | 'reminder';

export interface AlertEvent {
  kind: AlertEventKind;
  at: number;
  /** First failed run of the streak (down events). */
  firstFailureAt?: number | null;
  /** Regions failing when the event fired. */
  failingRegions: string[];
  /** 1-based reminder number (reminder events). */
  reminder?: number;
  /** p95 of the window (degraded events). */
  p95Ms?: number;
  reason: string;
}

export interface RunInput {
  region: string;
  status: 'up' | 'down';
  latencyMs: number | null;
  at: number;
  error?: string | null;
}

export interface EvalContext {
  /** The monitor's configured regions (quorum is taken over these). */
  regions: readonly string[];
  /** True while the monitor is in a maintenance window. */
  inMaintenance: boolean;
  /** True while a monitor this one depends on is down. */
  parentDown: boolean;
}

export const DEGRADED_MIN_SAMPLES = 3;

export function initialState(): MonitorAlertState {
  return { status: 'up', regions: {}, since: null, firstFailureAt: null, lastNotifiedAt: null, remindersSent: 0, samples: [] };
}

function p95(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]!;
}

function failingRegions(state: MonitorAlertState, regions: readonly string[]): string[] {
  const known = regions.length > 0 ? regions : Object.keys(state.regions);
  return known.filter((r) => state.regions[r]?.failing === true);
}

/** One region's counts after one run: the per-region half of `applyRun`, also what the shared region state stores. */
export function stepRegion<R extends RegionCounts>(prev: R, rule: Pick<AlertRule, 'failureThreshold' | 'successThreshold'>, status: 'up' | 'down'): R {
  const rc = { ...prev };
  if (status === 'down') {
    rc.fails += 1;
    rc.oks = 0;
    if (rc.fails >= rule.failureThreshold) rc.failing = true;
  } else {
    rc.oks += 1;
    rc.fails = 0;
    if (rc.oks >= rule.successThreshold) rc.failing = false;
  }
  return rc;
}

/** Folds one run into the state; returns the new state and the events it caused (often none). */
export function applyRun(prev: MonitorAlertState, rule: AlertRule, run: RunInput, ctx: EvalContext): { state: MonitorAlertState; events: AlertEvent[] } {
  const state: MonitorAlertState = { ...prev, regions: { ...prev.regions }, samples: prev.samples };
  state.regions[run.region] = stepRegion(state.regions[run.region] ?? { fails: 0, oks: 0, failing: false }, rule, run.status);
  if (run.status === 'down' && state.firstFailureAt === null) state.firstFailureAt = run.at;
  return finishRun(state, rule, run, ctx);
}

/**
 * Regions as every replica sees them: the counts stored per (monitor, region) in the alerts store, already
 * stepped by this run (`stepRegion`), plus the earliest failed run of the current streak over all regions.
 */
export interface SharedRegions {
  regions: Record<string, RegionCounts>;
  firstFailureAt: number | null;
}

/**
 * `applyRun` when the region counts are shared between replicas: the counts come from the store (this run is
 * already folded in there), the rest (status, reminders, latency samples) from this replica's state.
 */
export function applySharedRun(prev: MonitorAlertState, rule: AlertRule, run: RunInput, shared: SharedRegions, ctx: EvalContext): { state: MonitorAlertState; events: AlertEvent[] } {
  const state: MonitorAlertState = { ...prev, regions: { ...shared.regions }, samples: prev.samples };
  if (shared.firstFailureAt !== null) state.firstFailureAt = state.firstFailureAt === null ? shared.firstFailureAt : Math.min(state.firstFailureAt, shared.firstFailureAt);
  return finishRun(state, rule, run, ctx);
}

function finishRun(state: MonitorAlertState, rule: AlertRule, run: RunInput, ctx: EvalContext): { state: MonitorAlertState; events: AlertEvent[] } {
  if (rule.degradedLatencyMs !== null) {
    const cutoff = run.at - rule.degradedWindowMs;
    const kept = state.samples.filter(([t]) => t > cutoff);
    if (run.status === 'up' && run.latencyMs !== null) kept.push([run.at, run.latencyMs]);
    state.samples = kept;
  } else if (state.samples.length > 0) state.samples = [];

  return settle(state, rule, run.at, ctx);
}

/** Time passing with no run: reminders, and leaving suppression. */
export function tick(prev: MonitorAlertState, rule: AlertRule, at: number, ctx: EvalContext): { state: MonitorAlertState; events: AlertEvent[] } {
  return settle({ ...prev }, rule, at, ctx);
}

function settle(state: MonitorAlertState, rule: AlertRule, at: number, ctx: EvalContext): { state: MonitorAlertState; events: AlertEvent[] } {
  const events: AlertEvent[] = [];
  const failing = failingRegions(state, ctx.regions);
  const regionCount = Math.max(ctx.regions.length, 1);
  const isDown = failing.length >= quorumOf(rule, regionCount);
  const suppressed = ctx.inMaintenance || ctx.parentDown;
  const anyFailing = Object.values(state.regions).some((r) => r.fails > 0 || r.failing);
  if (!anyFailing && state.status !== 'down') state.firstFailureAt = null;

  if (state.status === 'down') {
    if (!isDown) {
      events.push({ kind: 'resolved', at, failingRegions: failing, reason: `${failing.length} of ${regionCount} region(s) failing, below the quorum` });
      state.status = 'up';
      state.since = null;
      state.lastNotifiedAt = null;
      state.remindersSent = 0;
      if (!anyFailing) state.firstFailureAt = null;
    } else if (!suppressed && rule.reminderIntervalMs > 0 && state.remindersSent < rule.maxReminders && state.lastNotifiedAt !== null && at - state.lastNotifiedAt >= rule.reminderIntervalMs) {
      state.remindersSent += 1;
      state.lastNotifiedAt = at;
      events.push({ kind: 'reminder', at, failingRegions: failing, reminder: state.remindersSent, reason: `still down (reminder ${state.remindersSent} of ${rule.maxReminders})` });
    }
    return { state, events };
  }

  if (isDown) {
    if (suppressed) return { state, events };
    if (state.status === 'degraded') events.push({ kind: 'recovered', at, failingRegions: [], reason: 'degraded state ends: the monitor is down' });
    state.status = 'down';
    state.since = at;
    state.lastNotifiedAt = at;
    state.remindersSent = 0;
    events.push({ kind: 'down', at, firstFailureAt: state.firstFailureAt, failingRegions: failing, reason: `${failing.length} of ${regionCount} region(s) failing (quorum ${quorumOf(rule, regionCount)})` });
    return { state, events };
  }

  // Up or degraded.
  const limit = rule.degradedLatencyMs;
  const value = limit !== null && state.samples.length >= DEGRADED_MIN_SAMPLES ? p95(state.samples.map(([, ms]) => ms)) : null;
  const slow = limit !== null && value !== null && value > limit;
  if (state.status === 'up' && slow && !suppressed) {
    state.status = 'degraded';
    state.since = at;
    events.push({ kind: 'degraded', at, failingRegions: [], p95Ms: value!, reason: `p95 ${Math.round(value!)} ms over ${limit} ms` });
  } else if (state.status === 'degraded' && !slow) {
    state.status = 'up';
    state.since = null;
    events.push({ kind: 'recovered', at, failingRegions: [], ...(value !== null ? { p95Ms: value } : {}), reason: value === null ? 'not enough recent samples' : `p95 ${Math.round(value)} ms within ${limit} ms` });
  }
  return { state, events };
}
