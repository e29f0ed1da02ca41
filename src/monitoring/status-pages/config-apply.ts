/**
 * Status pages and maintenance windows declared in server.yml (`status_pages:`, `maintenance:`), applied to the
 * store at start and on reload: a page is upserted by slug, a window by its name (stored id `mw-config-<name>`).
 * Monitors are named by name or id and resolved here; an unknown one is an error naming the entry. Pages and
 * windows created through the API or CLI are left alone, and an entry removed from server.yml is not deleted
 * (as with `monitors:`); a config entry with the slug of an API-created page replaces that page.
 */
import { configWindowId, type ConfigStatusPage, type ConfigWindow } from '../../config/status-pages.js';
import type { MonitoringStore } from '../../store/monitoring.js';
import type { StatusPagesStore } from '../../store/status-pages.js';

export interface ConfigApplyOutcome {
  pages: string[];
  windows: string[];
}

export async function applyConfigStatusPages(
  deps: { statusPages: StatusPagesStore; monitoring: MonitoringStore; now: number },
  pages: readonly ConfigStatusPage[],
  windows: readonly ConfigWindow[],
): Promise<ConfigApplyOutcome> {
  if (pages.length === 0 && windows.length === 0) return { pages: [], windows: [] };
  const monitors = await deps.monitoring.listMonitors({ includeDeleted: false, limit: 100_000 });
  const byName = new Map(monitors.map((m) => [m.name, m.id]));
  const ids = new Set(monitors.map((m) => m.id));
  const resolve = (ref: string, where: string): string => {
    const id = byName.get(ref) ?? (ids.has(ref) ? ref : undefined);
    if (id === undefined) throw new Error(`server.yml: ${where}: no monitor named (or with id) ${JSON.stringify(ref)}`);
    return id;
  };
  // Everything is resolved before anything is written: a bad entry changes nothing.
  const pageSpecs = pages.map((p, i) => ({
    slug: p.slug,
    title: p.title,
    description: p.description,
    showTargets: p.show_targets,
    groups: p.groups.map((g, j) => ({ name: g.name, monitorIds: g.monitors.map((m, k) => resolve(m, `status_pages[${i}] (${p.slug}).groups[${j}].monitors[${k}]`)) })),
  }));
  const windowSpecs = windows.map((w, i) => ({
    id: configWindowId(w.name),
    spec: {
      title: w.title,
      description: w.description,
      schedule: w.schedule,
      targets: { monitorIds: w.targets.monitors.map((m, k) => resolve(m, `maintenance[${i}] (${w.name}).monitors[${k}]`)), groups: [...w.targets.groups], statusPages: [...w.targets.statusPages] },
    },
  }));
  for (const spec of pageSpecs) await deps.statusPages.upsertPage(spec, deps.now);
  for (const { id, spec } of windowSpecs) {
    if ((await deps.statusPages.updateWindow(id, spec, deps.now)) !== null) continue;
    try {
      await deps.statusPages.createWindow(spec, { id, now: deps.now });
    } catch (err) {
      // Another replica starting at the same moment created it first.
      if ((await deps.statusPages.updateWindow(id, spec, deps.now)) === null) throw err;
    }
  }
  return { pages: pageSpecs.map((p) => p.slug), windows: windowSpecs.map((w) => w.id) };
}
