/**
 * A monitor's alert-rule override on the dashboard (AlertsService GetRule/SetRule, snake_case JSON as in
 * server.yml `alert_rules`). A blank field inherits (the key is left out of the override); keys the form does
 * not show (e.g. `group`) are kept as they are. Pure.
 */

/** The form's fields: the override key, its label, and the unit the form shows (the API takes ms). */
export const RULE_FIELDS = [
  { key: 'failure_threshold', label: 'Failure threshold (failed runs)', unit: 1 },
  { key: 'success_threshold', label: 'Success threshold (passing runs)', unit: 1 },
  { key: 'region_quorum', label: 'Region quorum ("majority" or a number)', unit: 1 },
  { key: 'reminder_interval_ms', label: 'Reminder every (minutes, 0 = off)', unit: 60_000 },
  { key: 'max_reminders', label: 'Max reminders', unit: 1 },
  { key: 'degraded_latency_ms', label: 'Degraded above p95 (ms, "off" = never)', unit: 1 },
  { key: 'degraded_window_ms', label: 'p95 window (seconds)', unit: 1000 },
] as const;
export type RuleFieldKey = (typeof RULE_FIELDS)[number]['key'];
/** Every key the form owns (for placing server messages). */
export const RULE_KEYS: readonly string[] = [...RULE_FIELDS.map((f) => f.key), 'depends_on', 'channels'];

export interface RuleForm {
  values: Record<RuleFieldKey, string>;
  dependsOn: string[];
  channels: string[];
}

/** Parses override/rule JSON text; {} for "" or anything that is not an object. */
export function parseRuleJson(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** The form's values for an override (blank where it does not set the key). */
export function ruleFormOf(override: Record<string, unknown>): RuleForm {
  const values = {} as Record<RuleFieldKey, string>;
  for (const f of RULE_FIELDS) {
    const v = override[f.key];
    if (v === undefined) values[f.key] = '';
    else if (v === null) values[f.key] = 'off';
    else if (typeof v === 'number') values[f.key] = String(v / f.unit);
    else values[f.key] = String(v);
  }
  return { values, dependsOn: strings(override.depends_on), channels: strings(override.channels) };
}

/**
 * The override to send: `base` (the stored override) with the form's keys set or removed. A value that is not
 * a number is sent as written, so the server's message names the field.
 */
export function buildOverride(form: RuleForm, base: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const f of RULE_FIELDS) {
    const raw = form.values[f.key].trim();
    if (raw === '') {
      delete out[f.key];
      continue;
    }
    if (f.key === 'region_quorum' && raw === 'majority') out[f.key] = 'majority';
    else if (f.key === 'degraded_latency_ms' && raw.toLowerCase() === 'off') out[f.key] = null;
    else {
      const n = Number(raw);
      out[f.key] = Number.isFinite(n) ? Math.round(n * f.unit) : raw;
    }
  }
  for (const [k, v] of [
    ['depends_on', form.dependsOn],
    ['channels', form.channels],
  ] as const) {
    if (v.length === 0) delete out[k];
    else out[k] = [...v];
  }
  return out;
}

/** The effective rule as label/value rows for display. */
export function ruleRows(rule: Record<string, unknown>): Array<[string, string]> {
  const show = (v: unknown): string => (v === null || v === undefined ? 'off' : Array.isArray(v) ? v.join(', ') || '–' : String(v));
  return [
    ['failure threshold', show(rule.failure_threshold)],
    ['success threshold', show(rule.success_threshold)],
    ['region quorum', show(rule.region_quorum)],
    ['reminder interval', rule.reminder_interval_ms ? `${Number(rule.reminder_interval_ms) / 60_000} min` : 'off'],
    ['max reminders', show(rule.max_reminders)],
    ['depends on', show(rule.depends_on)],
    ['degraded above p95', rule.degraded_latency_ms ? `${String(rule.degraded_latency_ms)} ms` : 'off'],
    ['p95 window', rule.degraded_window_ms ? `${Number(rule.degraded_window_ms) / 1000} s` : '–'],
    ['channels', Array.isArray(rule.channels) && rule.channels.length > 0 ? rule.channels.join(', ') : 'default channels'],
  ];
}
