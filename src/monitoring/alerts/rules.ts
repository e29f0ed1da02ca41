/**
 * Alert rules: what decides that a monitor is down, resolved, degraded, and how often it is reminded. A rule is
 * resolved per monitor from three layers, most specific first: the monitor's own `options.alerts`, the group it
 * names (`options.alerts.group`, declared in server.yml `alert_groups`), then the global defaults (server.yml
 * `alert_*` keys). Pure: no I/O.
 */
import { z } from 'zod';

export interface AlertRule {
  /** Consecutive failed runs (per region) before the region counts as failing. */
  failureThreshold: number;
  /** Consecutive passing runs (per region) before a failing region counts as passing again. */
  successThreshold: number;
  /** Failing regions needed for the monitor to be down; null = a majority of its regions. */
  regionQuorum: number | null;
  /** Time between reminders while down (ms); 0 = no reminders. */
  reminderIntervalMs: number;
  /** At most this many reminders per incident. */
  maxReminders: number;
  /** Monitor ids (or names, resolved by the caller) this monitor depends on: no alert while one is down. */
  dependsOn: string[];
  /** p95 latency (ms) over `degradedWindowMs` above which the monitor is degraded; null = never degraded. */
  degradedLatencyMs: number | null;
  degradedWindowMs: number;
  /** Names of the channels notified; empty = the channels marked `default`. */
  channels: string[];
}

/** The per-monitor / per-group override, as written in YAML or `options.alerts` (snake_case keys). */
export const RuleOverrideSchema = z
  .object({
    group: z.string({ error: 'expected a group name' }).optional(),
    failure_threshold: z.number({ error: 'expected a positive integer' }).int().min(1, { error: 'expected a positive integer' }).optional(),
    success_threshold: z.number({ error: 'expected a positive integer' }).int().min(1, { error: 'expected a positive integer' }).optional(),
    region_quorum: z.union([z.literal('majority'), z.number().int().min(1)], { error: 'expected "majority" or a positive integer' }).optional(),
    reminder_interval_ms: z.number({ error: 'expected a non-negative integer (ms)' }).int().min(0).optional(),
    max_reminders: z.number({ error: 'expected a non-negative integer' }).int().min(0).optional(),
    depends_on: z.array(z.string(), { error: 'expected a list of monitor names or ids' }).optional(),
    degraded_latency_ms: z.number({ error: 'expected a positive number of ms, or null' }).positive().nullable().optional(),
    degraded_window_ms: z.number({ error: 'expected a positive integer (ms)' }).int().min(1).optional(),
    channels: z.array(z.string(), { error: 'expected a list of channel names' }).optional(),
  })
  .strict();
export type RuleOverride = z.output<typeof RuleOverrideSchema>;

export const AlertGroupSchema = RuleOverrideSchema.omit({ group: true }).extend({ name: z.string().min(1, { error: 'expected a group name' }) }).strict();
export type AlertGroup = z.output<typeof AlertGroupSchema>;

/** The global defaults, as the server config holds them. */
export interface RuleDefaults {
  alert_failure_threshold: number;
  alert_success_threshold: number;
  alert_region_quorum: number;
  alert_reminder_interval_ms: number;
  alert_max_reminders: number;
  alert_degraded_latency_ms: number;
  alert_degraded_window_ms: number;
}

function apply(rule: AlertRule, o: RuleOverride | Omit<AlertGroup, 'name'>): AlertRule {
  const r = { ...rule };
  if (o.failure_threshold !== undefined) r.failureThreshold = o.failure_threshold;
  if (o.success_threshold !== undefined) r.successThreshold = o.success_threshold;
  if (o.region_quorum !== undefined) r.regionQuorum = o.region_quorum === 'majority' ? null : o.region_quorum;
  if (o.reminder_interval_ms !== undefined) r.reminderIntervalMs = o.reminder_interval_ms;
  if (o.max_reminders !== undefined) r.maxReminders = o.max_reminders;
  if (o.depends_on !== undefined) r.dependsOn = [...o.depends_on];
  if (o.degraded_latency_ms !== undefined) r.degradedLatencyMs = o.degraded_latency_ms;
  if (o.degraded_window_ms !== undefined) r.degradedWindowMs = o.degraded_window_ms;
  if (o.channels !== undefined) r.channels = [...o.channels];
  return r;
}

/** The rule of a monitor: defaults, then its group, then its own override. */
export function resolveRule(defaults: RuleDefaults, groups: readonly AlertGroup[], own: RuleOverride | undefined): AlertRule {
  let rule: AlertRule = {
    failureThreshold: defaults.alert_failure_threshold,
    successThreshold: defaults.alert_success_threshold,
    regionQuorum: defaults.alert_region_quorum === 0 ? null : defaults.alert_region_quorum,
    reminderIntervalMs: defaults.alert_reminder_interval_ms,
    maxReminders: defaults.alert_max_reminders,
    dependsOn: [],
    degradedLatencyMs: defaults.alert_degraded_latency_ms === 0 ? null : defaults.alert_degraded_latency_ms,
    degradedWindowMs: defaults.alert_degraded_window_ms,
    channels: [],
  };
  if (own?.group !== undefined) {
    const g = groups.find((x) => x.name === own.group);
    if (g) rule = apply(rule, g);
  }
  if (own) rule = apply(rule, own);
  return rule;
}

/**
 * Reads `options.alerts` of a monitor. Returns the override, or an error naming the field; a monitor whose
 * override is invalid is alerted on the defaults (the caller logs the error).
 */
export function parseMonitorOverride(options: Record<string, unknown>): { override?: RuleOverride; error?: string } {
  const raw = options['alerts'];
  if (raw === undefined) return {};
  const r = RuleOverrideSchema.safeParse(raw);
  if (r.success) return { override: r.data };
  const issue = r.error.issues[0]!;
  return { error: `options.alerts.${issue.path.join('.')}: ${issue.message}` };
}

/** Failing regions needed for `down` with `regionCount` regions. */
export function quorumOf(rule: AlertRule, regionCount: number): number {
  const n = Math.max(1, regionCount);
  if (rule.regionQuorum === null) return Math.floor(n / 2) + 1;
  return Math.min(rule.regionQuorum, n);
}
