/**
 * The plan of a declarative apply, computed without I/O: which wanted monitors to create, which existing
 * ones to update (and which fields differ), which to delete (prune only) and which are already as wanted.
 * Monitors are identified by name; an existing name held by more than one monitor is refused, since apply
 * could not tell which one the entry means.
 */
import type { MonitorRecord, MonitorSpec } from '../../store/monitoring.js';

/** The MonitorSpec fields apply compares (assertions_compiled follows from assertions). */
export const COMPARED_FIELDS = [
  'name',
  'type',
  'url',
  'method',
  'headers',
  'body',
  'interval_ms',
  'timeout_ms',
  'assertions',
  'regions',
  'enabled',
  'options',
] as const satisfies ReadonlyArray<keyof MonitorSpec>;

export interface PlannedUpdate {
  current: MonitorRecord;
  spec: MonitorSpec;
  changed: string[];
}

export interface ApplyPlan {
  create: MonitorSpec[];
  update: PlannedUpdate[];
  /** Existing monitors the wanted list omits; deleted when pruning, else kept. */
  delete: MonitorRecord[];
  unchanged: MonitorRecord[];
  /** Existing monitors not in the list and left alone (no prune). */
  kept: number;
}

export type PlanResult = { ok: true; plan: ApplyPlan } | { ok: false; error: string };

/** JSON with object keys sorted, so that {a, b} and {b, a} compare equal. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

/** The fields of `spec` that differ from `current`, in COMPARED_FIELDS order. */
export function changedFields(current: MonitorSpec, spec: MonitorSpec): string[] {
  return COMPARED_FIELDS.filter((f) => canonical(current[f]) !== canonical(spec[f]));
}

/**
 * `wanted`: validated specs with unique names. `existing`: the monitors not deleted. Plans in the order of
 * `wanted` (create, update, unchanged) and of `existing` (delete).
 */
export function planApply(wanted: readonly MonitorSpec[], existing: readonly MonitorRecord[], opts: { prune: boolean }): PlanResult {
  const byName = new Map<string, MonitorRecord[]>();
  for (const m of existing) {
    if (m.deleted_at !== null) continue;
    const list = byName.get(m.name);
    if (list) list.push(m);
    else byName.set(m.name, [m]);
  }
  const plan: ApplyPlan = { create: [], update: [], delete: [], unchanged: [], kept: 0 };
  const wantedNames = new Set<string>();
  for (const spec of wanted) {
    wantedNames.add(spec.name);
    const matches = byName.get(spec.name);
    if (!matches) {
      plan.create.push(spec);
      continue;
    }
    if (matches.length > 1) {
      return {
        ok: false,
        error: `name "${spec.name}" is held by ${matches.length} monitors (${matches.map((m) => m.id).join(', ')}): apply identifies monitors by name, so delete or rename all but one (vantage monitor rm <id>)`,
      };
    }
    const current = matches[0]!;
    const changed = changedFields(current, spec);
    if (changed.length === 0) plan.unchanged.push(current);
    else plan.update.push({ current, spec, changed });
  }
  for (const [name, list] of byName) {
    if (wantedNames.has(name)) continue;
    if (opts.prune) plan.delete.push(...list);
    else plan.kept += list.length;
  }
  return { ok: true, plan };
}
