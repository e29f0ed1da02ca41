/**
 * The maintenance calendar: which window, if any, covers a monitor at an instant. Built from the stored windows
 * and status pages (targets by group or page resolve to monitor ids here), held in memory so that the alert
 * path asks synchronously; `MaintenanceCalendarCache` reloads it after changes and periodically.
 */
import type { MaintenanceRecord, StatusPageRecord, StatusPagesStore } from '../../store/status-pages.js';
import { mergeIntervals, occurrencesBetween, type Occurrence } from './window-math.js';

const DAY_MS = 86_400_000;
/** How far beyond a request's range occurrences are computed and kept, so nearby requests reuse them. */
const SPAN_MARGIN_MS = 100 * DAY_MS;

/** What the alerts component asks (contract between alerts and status pages). */
export interface MaintenanceWindowRef {
  id: string;
  title: string;
  endsAt: number;
}

export interface MaintenanceCalendar {
  activeFor(monitorId: string, atMs: number): MaintenanceWindowRef | null;
}

/** A calendar with nothing in it (the default where no maintenance is configured). */
export const NO_MAINTENANCE: MaintenanceCalendar = { activeFor: () => null };

/** The monitor ids a window covers, given the status pages (groups are matched by name on every page). */
export function resolveTargets(w: MaintenanceRecord, pages: readonly StatusPageRecord[]): Set<string> {
  const out = new Set(w.targets.monitorIds);
  const groups = new Set(w.targets.groups);
  const slugs = new Set(w.targets.statusPages);
  for (const p of pages) {
    for (const g of p.groups) if (slugs.has(p.slug) || groups.has(g.name)) for (const id of g.monitorIds) out.add(id);
  }
  return out;
}

export class Calendar implements MaintenanceCalendar {
  private readonly byMonitor = new Map<string, MaintenanceRecord[]>();
  /** Occurrences per window over a span (timezone maths is the costly part of a page with windows). */
  private readonly spans = new Map<string, { from: number; to: number; list: Occurrence[] }>();

  constructor(
    readonly windows: readonly MaintenanceRecord[],
    readonly pages: readonly StatusPageRecord[],
  ) {
    for (const w of windows) {
      for (const id of resolveTargets(w, pages)) {
        let list = this.byMonitor.get(id);
        if (!list) this.byMonitor.set(id, (list = []));
        list.push(w);
      }
    }
  }

  /** A window's occurrences overlapping [from, to), from the kept span when it covers the range. */
  occurrences(w: MaintenanceRecord, from: number, to: number): Occurrence[] {
    let span = this.spans.get(w.id);
    if (!span || from < span.from || to > span.to) {
      const f = Math.floor(from / DAY_MS) * DAY_MS - SPAN_MARGIN_MS;
      const t = Math.ceil(to / DAY_MS) * DAY_MS + SPAN_MARGIN_MS;
      span = { from: f, to: t, list: occurrencesBetween(w.schedule, f, t) };
      this.spans.set(w.id, span);
    }
    return span.list.filter((o) => o.start < to && o.end > from);
  }

  activeFor(monitorId: string, atMs: number): MaintenanceWindowRef | null {
    let best: MaintenanceWindowRef | null = null;
    for (const w of this.byMonitor.get(monitorId) ?? []) {
      for (const o of this.occurrences(w, atMs, atMs + 1)) {
        if (o.start <= atMs && atMs < o.end && (!best || o.end > best.endsAt)) best = { id: w.id, title: w.title, endsAt: o.end };
      }
    }
    return best;
  }

  /** The monitor's maintenance time within [from, to), merged into disjoint intervals. */
  intervalsFor(monitorId: string, from: number, to: number): Occurrence[] {
    const xs: Occurrence[] = [];
    for (const w of this.byMonitor.get(monitorId) ?? []) {
      for (const o of this.occurrences(w, from, to)) xs.push({ start: Math.max(o.start, from), end: Math.min(o.end, to) });
    }
    return mergeIntervals(xs);
  }

  /** Windows that touch this page (any of its monitors), with their occurrences in [from, to). */
  windowsForPage(page: StatusPageRecord, from: number, to: number): Array<{ window: MaintenanceRecord; occurrences: Occurrence[] }> {
    const ids = new Set(page.groups.flatMap((g) => g.monitorIds));
    const out: Array<{ window: MaintenanceRecord; occurrences: Occurrence[] }> = [];
    for (const w of this.windows) {
      const targets = resolveTargets(w, [page]);
      if (![...targets].some((id) => ids.has(id))) continue;
      const occurrences = this.occurrences(w, from, to);
      if (occurrences.length > 0) out.push({ window: w, occurrences });
    }
    return out;
  }
}

/**
 * Keeps a Calendar loaded from the store. `activeFor` answers from the last load (synchronous, for the alert
 * path); `reload()` is called after every change made through the API and by the server's periodic loop.
 */
export class MaintenanceCalendarCache implements MaintenanceCalendar {
  private current = new Calendar([], []);
  private loading: Promise<Calendar> | null = null;

  constructor(private readonly store: StatusPagesStore) {}

  activeFor(monitorId: string, atMs: number): MaintenanceWindowRef | null {
    return this.current.activeFor(monitorId, atMs);
  }

  get calendar(): Calendar {
    return this.current;
  }

  async reload(): Promise<Calendar> {
    // Concurrent callers share one load.
    this.loading ??= (async () => {
      try {
        const [windows, pages] = await Promise.all([this.store.listWindows(), this.store.listPages()]);
        this.current = new Calendar(windows, pages);
        return this.current;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }
}
