/**
 * Builds the public view of a status page from the stores: per group, each monitor's current status, a 90-day
 * bar from the 1d rollups, incidents and maintenance. Only what a visitor may see goes into the view: monitor
 * names and ids, never URLs (unless the page opts in), headers, bodies or assertions.
 *
 * Maintenance is derived at read time, not flagged at ingest: a window can be created or corrected after the
 * fact and the page follows, and ingest (the hot path) stays unchanged. Uptime excludes maintenance by
 * subtracting the 1h buckets lying wholly inside a window from the day's 1d bucket.
 */
import type { CountsByMonitor, PageMonitorRow, StatusPageRecord, StatusPagesStore } from '../../store/status-pages.js';
import { RESOLUTION_MS } from '../domain/rollup-math.js';
import type { Calendar } from '../maintenance/calendar.js';
import type { Occurrence } from '../maintenance/window-math.js';
import type { IncidentReader, IncidentView } from './incidents.js';

export const BAR_DAYS = 90;
const DAY = RESOLUTION_MS['1d'];
const HOUR = RESOLUTION_MS['1h'];

export type MonitorState = 'up' | 'down' | 'maintenance' | 'unknown';
export type OverallState = 'operational' | 'partial_outage' | 'major_outage' | 'maintenance' | 'unknown';

export interface DayBar {
  /** UTC day, YYYY-MM-DD. */
  date: string;
  /** Uptime in percent over the day's counted runs, null without data. */
  uptimePct: number | null;
  /** Part of the day was under maintenance. */
  maintenance: boolean;
}

export interface MonitorView {
  id: string;
  name: string;
  status: MonitorState;
  /** Only when the page shows targets. */
  target?: string;
  /** Uptime over the 90 days in percent, null without data. */
  uptimePct: number | null;
  days: DayBar[];
}

export interface MaintenanceView {
  id: string;
  title: string;
  description: string;
  startsAt: number;
  endsAt: number;
}

export interface StatusPageView {
  slug: string;
  title: string;
  description: string;
  generatedAt: number;
  overall: OverallState;
  groups: Array<{ name: string; monitors: MonitorView[] }>;
  activeIncidents: IncidentView[];
  pastIncidents: IncidentView[];
  maintenance: { active: MaintenanceView[]; upcoming: MaintenanceView[]; past: MaintenanceView[] };
}

export interface ViewDeps {
  /** The page's reads: its monitors with their latest status, and the rollup counts (one query each). */
  statusPages: Pick<StatusPagesStore, 'pageMonitors' | 'rollupCounts'>;
  incidents: IncidentReader;
  calendar: Calendar;
  /** Exclude maintenance time from uptime (status_uptime_excludes_maintenance). */
  excludeMaintenance: boolean;
}

const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Counts of one time range: rollups merged over regions, minus the hours under maintenance. */
interface Counts {
  count: number;
  up: number;
}

const coveredBy = (start: number, end: number, xs: readonly Occurrence[]) => xs.some((o) => o.start <= start && end <= o.end);

interface PageData {
  from: number;
  today: number;
  monitors: Map<string, PageMonitorRow>;
  bars: boolean;
  /** The bar's days (UTC, YYYY-MM-DD), the same for every monitor of the page. */
  dates: string[];
  days: CountsByMonitor;
  hours: CountsByMonitor;
}

/** One query for the monitors and their latest status, one for the daily counts, one for the hourly counts of the monitors that had maintenance. */
async function loadPageData(deps: ViewDeps, ids: readonly string[], now: number, bars: boolean): Promise<PageData> {
  const today = Math.floor(now / DAY) * DAY;
  const from = today - (BAR_DAYS - 1) * DAY;
  const withMaint = bars && deps.excludeMaintenance ? ids.filter((id) => deps.calendar.intervalsFor(id, from, now + 1).length > 0) : [];
  const [monitors, days, hours] = await Promise.all([
    deps.statusPages.pageMonitors(ids),
    bars ? deps.statusPages.rollupCounts(ids, '1d', from, today + DAY) : Promise.resolve(new Map() as CountsByMonitor),
    withMaint.length > 0 ? deps.statusPages.rollupCounts(withMaint, '1h', from, today + DAY) : Promise.resolve(new Map() as CountsByMonitor),
  ]);
  const dates: string[] = [];
  for (let t = from; t <= today; t += DAY) dates.push(isoDay(t));
  return { from, today, monitors: new Map(monitors.map((m) => [m.id, m])), bars, dates, days, hours };
}

function monitorView(deps: ViewDeps, page: StatusPageRecord, data: PageData, id: string, now: number): MonitorView | null {
  const m = data.monitors.get(id);
  if (!m || m.deleted) return null;
  const { from, today } = data;
  let status: MonitorState = 'unknown';
  if (deps.calendar.activeFor(id, now)) status = 'maintenance';
  else if (m.lastStatus !== null) status = m.lastStatus;
  const out: MonitorView = { id, name: m.name, status, uptimePct: null, days: [] };
  if (page.showTargets) out.target = m.url;
  if (!data.bars) return out;
  const maint = deps.calendar.intervalsFor(id, from, now + 1);
  let perDay = data.days.get(id) ?? new Map<number, Counts>();
  if (deps.excludeMaintenance && maint.length > 0) {
    // A copy: the hours under maintenance are subtracted from it.
    perDay = new Map([...perDay].map(([k, v]) => [k, { ...v }]));
    for (const [start, h] of data.hours.get(id) ?? []) {
      if (!coveredBy(start, start + HOUR, maint)) continue;
      const d = perDay.get(Math.floor(start / DAY) * DAY);
      if (d) {
        d.count -= h.count;
        d.up -= h.up;
      }
    }
  }
  const bars: DayBar[] = [];
  let total = 0;
  let up = 0;
  for (let i = 0, t = from; t <= today; i++, t += DAY) {
    const c = perDay.get(t);
    const has = c !== undefined && c.count > 0;
    if (has) {
      total += c.count;
      up += c.up;
    }
    bars.push({ date: data.dates[i]!, uptimePct: has ? round2((100 * c.up) / c.count) : null, maintenance: maint.length > 0 && maint.some((o) => o.start < t + DAY && o.end > t) });
  }
  out.uptimePct = total > 0 ? round2((100 * up) / total) : null;
  out.days = bars;
  return out;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function overallOf(monitors: readonly MonitorView[], incidents: readonly IncidentView[]): OverallState {
  if (monitors.length === 0) return 'unknown';
  const down = monitors.filter((m) => m.status === 'down').length;
  if (incidents.some((i) => i.impact === 'critical' || i.impact === 'major') || (down > 0 && down === monitors.length)) return 'major_outage';
  if (down > 0 || incidents.some((i) => i.impact === 'minor')) return 'partial_outage';
  if (monitors.some((m) => m.status === 'maintenance')) return 'maintenance';
  if (monitors.every((m) => m.status === 'unknown')) return 'unknown';
  return 'operational';
}

/**
 * The public view of `page` at `now`. `bars: false` (the Atom feed, which shows incidents and maintenance only)
 * skips the rollup reads: every monitor's `days` is empty and its uptime null.
 */
export async function buildStatusPageView(deps: ViewDeps, page: StatusPageRecord, now: number, opts: { bars?: boolean } = {}): Promise<StatusPageView> {
  const data = await loadPageData(deps, [...new Set(page.groups.flatMap((g) => g.monitorIds))], now, opts.bars !== false);
  const groups = page.groups.map((g) => ({
    name: g.name,
    monitors: g.monitorIds.map((id) => monitorView(deps, page, data, id, now)).filter((x): x is MonitorView => x !== null),
  }));
  const monitorIds = page.groups.flatMap((g) => g.monitorIds);
  const incidents = await deps.incidents.list({ monitorIds, statusPageSlug: page.slug, since: now - BAR_DAYS * DAY, limit: 100 });
  const active = incidents.filter((i) => i.status !== 'resolved');
  const past = incidents.filter((i) => i.status === 'resolved').sort((a, b) => b.startedAt - a.startedAt);
  const maintenance: StatusPageView['maintenance'] = { active: [], upcoming: [], past: [] };
  for (const { window: w, occurrences } of deps.calendar.windowsForPage(page, now - 14 * DAY, now + 30 * DAY)) {
    for (const o of occurrences) {
      const v = { id: w.id, title: w.title, description: w.description, startsAt: o.start, endsAt: o.end };
      if (o.start <= now && now < o.end) maintenance.active.push(v);
      else if (o.start > now) maintenance.upcoming.push(v);
      else maintenance.past.push(v);
    }
  }
  maintenance.upcoming.sort((a, b) => a.startsAt - b.startsAt).splice(10);
  maintenance.past.sort((a, b) => b.startsAt - a.startsAt).splice(10);
  const all = groups.flatMap((g) => g.monitors);
  return {
    slug: page.slug,
    title: page.title,
    description: page.description,
    generatedAt: now,
    overall: overallOf(all, active),
    groups,
    activeIncidents: active,
    pastIncidents: past,
    maintenance,
  };
}
