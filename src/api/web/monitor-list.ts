/** ListMonitors with filters (search, statuses, region, type) and summaries, answered from the dashboard queries. */
import { Code, ConnectError } from '@connectrpc/connect';
import type { ListMonitorsRequest } from '../../gen/vantage/v1/monitors_pb.js';
import { MONITOR_STATES, type DashboardStore, type MonitorFilter, type MonitorState } from '../../store/dashboard.js';
import type { MonitoringStore } from '../../store/monitoring.js';
import { big, monitorToProto } from './convert.js';

const H = 3_600_000;
const MAX_SEARCH = 200;

export function hasListFilter(req: Pick<ListMonitorsRequest, 'search' | 'statuses' | 'region' | 'type' | 'withSummary'>): boolean {
  return req.search !== '' || req.statuses.length > 0 || req.region !== '' || req.type !== '' || req.withSummary;
}

/** The request's filter, or an InvalidArgument naming the field. */
export function listFilter(req: Pick<ListMonitorsRequest, 'search' | 'statuses' | 'region' | 'type'>): MonitorFilter {
  if (req.search.length > MAX_SEARCH) throw new ConnectError(`search: at most ${MAX_SEARCH} characters, got ${req.search.length}`, Code.InvalidArgument);
  for (const s of req.statuses) {
    if (!(MONITOR_STATES as readonly string[]).includes(s)) {
      throw new ConnectError(`statuses: expected any of ${MONITOR_STATES.join(', ')}, got "${s}"`, Code.InvalidArgument);
    }
  }
  return {
    search: req.search.trim() || undefined,
    states: req.statuses as MonitorState[],
    region: req.region.trim() || undefined,
    type: req.type.trim() || undefined,
  };
}

export async function filteredMonitorPage(
  d: { store: MonitoringStore; dashboard: DashboardStore; now: () => number },
  req: ListMonitorsRequest,
  page: { limit: number; after?: string },
) {
  if (req.includeDeleted) throw new ConnectError('include_deleted: cannot be combined with filters or with_summary', Code.InvalidArgument);
  const filter = listFilter(req);
  const [rows, total] = await Promise.all([d.dashboard.listMonitors(filter, { after: page.after, limit: page.limit + 1 }), d.dashboard.countMonitors(filter)]);
  const pageRows = rows.slice(0, page.limit);
  const next = rows.length > page.limit ? Buffer.from(pageRows[pageRows.length - 1]!.id).toString('base64url') : '';
  const monitors = (await Promise.all(pageRows.map((r) => d.store.getMonitor(r.id)))).filter((m) => m !== null);
  let summaries: ReturnType<typeof summaryToProto>[] = [];
  if (req.withSummary) {
    const bars = req.summaryBars === 0 ? 90 : Math.min(req.summaryBars, 200);
    const now = d.now();
    const s = await d.dashboard.summaries(
      monitors.map((m) => m.id),
      { bars, since24h: Math.floor(now / H) * H - 23 * H },
    );
    summaries = s.map(summaryToProto);
  }
  return { monitors: monitors.map(monitorToProto), nextPageToken: next, summaries, total };
}

function summaryToProto(s: Awaited<ReturnType<DashboardStore['summaries']>>[number]) {
  const last = s.recent[0];
  return {
    monitorId: s.monitor_id,
    status: s.state,
    recent: s.recent.map((r) => r.status),
    lastEventAtMs: last ? big(last.event_at) : undefined,
    lastTotalMs: last?.total_ms ?? undefined,
    uptime24hPct: s.runs_24h > 0 ? (100 * s.up_24h) / s.runs_24h : undefined,
    runs24h: big(s.runs_24h),
  };
}
