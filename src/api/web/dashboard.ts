/** The Connect implementation of vantage.v1.DashboardService: overview figures and region health (read-only). */
import type { ServiceImpl } from '@connectrpc/connect';
import type { DashboardService } from '../../gen/vantage/v1/dashboard_pb.js';
import type { DashboardStore } from '../../store/dashboard.js';
import type { MonitoringStore, WorkerRecord } from '../../store/monitoring.js';
import type { WorkerStreams } from '../../monitoring/control/worker-streams.js';
import { big } from './convert.js';
import { createOverviewCache, type OverviewCache } from './overview-cache.js';

export interface DashboardServiceDeps {
  dashboard: DashboardStore;
  store: MonitoringStore;
  streams?: WorkerStreams;
  now: () => number;
  /** Shared with the live stream (app/server.ts makes one); absent = one of its own. */
  overviewCache?: OverviewCache;
}

const H = 3_600_000;
const floorHour = (t: number): number => Math.floor(t / H) * H;

/** The overview's figures (also what the live stream sends as `overview`). */
export async function overview(d: Pick<DashboardServiceDeps, 'dashboard' | 'now'>, limit = 10) {
  const now = d.now();
  const [counts, runs, failures, slowest] = await Promise.all([
    d.dashboard.counts(),
    d.dashboard.runsSince(floorHour(now) - 23 * H),
    d.dashboard.recentFailures(now - 24 * H, limit),
    d.dashboard.slowest(floorHour(now) - H, limit),
  ]);
  return {
    monitorsTotal: counts.total,
    monitorsUp: counts.up,
    monitorsDown: counts.down,
    monitorsPaused: counts.paused,
    monitorsPending: counts.pending,
    runs24h: big(runs.runs),
    failures24h: big(runs.failures),
    recentFailures: failures.map((f) => ({
      monitorId: f.monitor_id,
      monitorName: f.monitor_name,
      region: f.region,
      eventAtMs: big(f.event_at),
      status: f.status,
      httpCode: f.http_code ?? 0,
      error: f.error ?? '',
      errorClass: f.error_class ?? '',
    })),
    slowest: slowest.map((s) => ({ monitorId: s.monitor_id, monitorName: s.monitor_name, p95Ms: s.p95_ms, p99Ms: s.p99_ms ?? 0 })),
    generatedAtMs: big(now),
  };
}

/** Workers grouped by region, with a state per region. Pure over the worker list and who is connected. */
export function regionHealth(workers: readonly WorkerRecord[], connected: (id: string) => boolean) {
  const byRegion = new Map<string, WorkerRecord[]>();
  for (const w of workers) byRegion.set(w.region, [...(byRegion.get(w.region) ?? []), w]);
  return [...byRegion.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([region, ws]) => {
      const conn = ws.filter((w) => w.status !== 'revoked' && connected(w.id)).length;
      const live = ws.filter((w) => w.status !== 'revoked').length;
      return {
        region,
        connected: conn,
        active: ws.filter((w) => w.status === 'active').length,
        inactive: ws.filter((w) => w.status === 'inactive').length,
        revoked: ws.filter((w) => w.status === 'revoked').length,
        state: conn === 0 ? 'down' : conn < live ? 'degraded' : 'healthy',
        workers: ws.map((w) => ({
          id: w.id,
          hostname: w.hostname,
          status: w.status,
          connected: connected(w.id),
          lastSeenAtMs: big(w.last_seen_at),
          version: w.version,
        })),
      };
    });
}

export function createDashboardServiceImpl(d: DashboardServiceDeps): ServiceImpl<typeof DashboardService> {
  const cache = d.overviewCache ?? createOverviewCache(d);
  return {
    async getOverview(req) {
      const limit = req.limit === 0 ? 10 : Math.min(req.limit, 100);
      return cache.get(limit);
    },
    async getRegionHealth() {
      const workers = await d.store.listWorkers();
      return { regions: regionHealth(workers, (id) => d.streams?.get(id) !== undefined) };
    },
  };
}
