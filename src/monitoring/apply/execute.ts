/**
 * Carries out a declarative apply against the monitoring store: reads the existing monitors, asks plan.ts
 * for the plan and, unless it is a dry run, creates, updates and deletes through the store's audited
 * monitor methods. Each change is its own transaction, so an apply that stops half-way leaves a state the
 * next apply of the same list completes (apply is idempotent).
 */
import type { MonitoringStore, MonitorRecord, MonitorSpec } from '../../store/monitoring.js';
import { planApply, type ApplyPlan } from './plan.js';

export interface ApplyDeps {
  store: MonitoringStore;
  now: () => number;
  newId: () => string;
  newJitterSeed: () => number;
}

export interface AppliedMonitor {
  name: string;
  /** Empty for a create in a dry run. */
  id: string;
  changed: string[];
}

export interface ApplyOutcome {
  created: AppliedMonitor[];
  updated: AppliedMonitor[];
  deleted: AppliedMonitor[];
  unchanged: AppliedMonitor[];
  kept: number;
  applied: boolean;
}

export type ApplyResult = { ok: true; outcome: ApplyOutcome } | { ok: false; error: string };

const PAGE = 1000;

/** Every monitor not deleted, in id order. */
export async function listLiveMonitors(store: MonitoringStore): Promise<MonitorRecord[]> {
  const out: MonitorRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listMonitors({ includeDeleted: false, limit: PAGE, after });
    out.push(...page);
    if (page.length < PAGE) return out;
    after = page[page.length - 1]!.id;
  }
}

const ref = (m: MonitorRecord, changed: string[] = []): AppliedMonitor => ({ name: m.name, id: m.id, changed });

function describe(plan: ApplyPlan): ApplyOutcome {
  return {
    created: plan.create.map((s) => ({ name: s.name, id: '', changed: [] })),
    updated: plan.update.map((u) => ref(u.current, u.changed)),
    deleted: plan.delete.map((m) => ref(m)),
    unchanged: plan.unchanged.map((m) => ref(m)),
    kept: plan.kept,
    applied: false,
  };
}

/** Makes the store's monitors match `wanted` (validated, unique names); `prune` deletes the others. */
export async function applyMonitors(
  d: ApplyDeps,
  wanted: readonly MonitorSpec[],
  opts: { prune: boolean; dryRun: boolean; actor: string },
): Promise<ApplyResult> {
  const planned = planApply(wanted, await listLiveMonitors(d.store), { prune: opts.prune });
  if (!planned.ok) return planned;
  const { plan } = planned;
  const outcome = describe(plan);
  if (opts.dryRun) return { ok: true, outcome };

  outcome.created = [];
  for (const spec of plan.create) {
    const m = await d.store.createMonitor(spec, { id: d.newId(), actor: opts.actor, now: d.now(), jitterSeed: d.newJitterSeed() });
    outcome.created.push(ref(m));
  }
  for (const u of plan.update) {
    // A monitor deleted since the plan was read comes back null: it is created anew from the entry.
    const m = await d.store.updateMonitor(u.current.id, u.spec, { actor: opts.actor, now: d.now() });
    if (!m) {
      const created = await d.store.createMonitor(u.spec, { id: d.newId(), actor: opts.actor, now: d.now(), jitterSeed: d.newJitterSeed() });
      outcome.updated = outcome.updated.filter((x) => x.id !== u.current.id);
      outcome.created.push(ref(created));
    }
  }
  for (const m of plan.delete) await d.store.deleteMonitor(m.id, { actor: opts.actor, now: d.now() });
  outcome.applied = true;
  return { ok: true, outcome };
}
