/** The Connect implementation of vantage.v1.MonitorsService (management API for monitors). */
import { Code, ConnectError, createContextKey, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import type { MonitorsService } from '../../gen/vantage/v1/monitors_pb.js';
import type { MonitoringStore, Resolution } from '../../store/monitoring.js';
import { newJitterSeed, newMonitorId } from '../../platform/ids.js';
import { isSystemMonitor } from '../../monitoring/domain/system-monitors.js';
import type { WorkerStreams } from '../../monitoring/control/worker-streams.js';
import { queryMetrics, uptimeWindows } from '../../monitoring/control/rollups.js';
import { auditToProto, monitorInputFromProto, monitorToProto, pointToProto, resultToProto, workerToProto } from './convert.js';
import { applyUpdateMask, describeApplyError, specToInput, validateApplyInputs, validateMonitorInput } from './validation.js';
import { applyMonitors, type AppliedMonitor } from '../../monitoring/apply/execute.js';
import type { DashboardStore } from '../../store/dashboard.js';
import { filteredMonitorPage, hasListFilter } from './monitor-list.js';

/** Who is calling (from the API-key check), used as audit actor and monitor owner. */
export const kActor = createContextKey<string>('anonymous');

export interface MonitorsServiceDeps {
  store: MonitoringStore;
  streams?: WorkerStreams;
  now: () => number;
  /** Called after a monitor change (the scheduler can run a pass at once). */
  onMonitorsChanged?: () => void;
  /** The dashboard queries: ListMonitors' filters and summaries need them. */
  dashboard?: DashboardStore;
}

const DAY = 86_400_000;
const clampLimit = (n: number, def = 100, max = 1000): number => (n <= 0 ? def : Math.min(n, max));
const toNum = (b: bigint): number => Number(b);

function invalid(msg: string): ConnectError {
  return new ConnectError(msg, Code.InvalidArgument);
}
function notFound(id: string): ConnectError {
  return new ConnectError(`monitor ${id} not found`, Code.NotFound);
}
const planned = (m: AppliedMonitor) => ({ name: m.name, id: m.id, changedFields: m.changed });
/** At most this many entry errors are listed in one answer (the rest are counted). */
const MAX_LISTED_ERRORS = 50;

function requireId(id: string): string {
  if (id.trim() === '') throw invalid('id: required');
  return id.trim();
}

function systemOwned(id: string): ConnectError {
  return new ConnectError(`monitor "${id}" is system-owned (a backend probe): it follows the fleet and cannot be edited`, Code.FailedPrecondition);
}

export function createMonitorsServiceImpl(d: MonitorsServiceDeps): ServiceImpl<typeof MonitorsService> {
  return {
    async createMonitor(req, ctx: HandlerContext) {
      const v = validateMonitorInput(monitorInputFromProto(req.monitor));
      if (!v.ok) throw invalid(v.error);
      const m = await d.store.createMonitor(v.spec, { id: newMonitorId(), actor: ctx.values.get(kActor), now: d.now(), jitterSeed: newJitterSeed() });
      d.onMonitorsChanged?.();
      return { monitor: monitorToProto(m) };
    },

    async applyMonitors(req, ctx: HandlerContext) {
      const v = validateApplyInputs(req.monitors.map(monitorInputFromProto));
      if (!v.ok) {
        const more = v.errors.length > MAX_LISTED_ERRORS ? `\n… and ${v.errors.length - MAX_LISTED_ERRORS} more` : '';
        throw invalid(`${v.errors.length} invalid monitor(s), nothing applied:\n${v.errors.slice(0, MAX_LISTED_ERRORS).map(describeApplyError).join('\n')}${more}`);
      }
      const r = await applyMonitors(
        { store: d.store, now: d.now, newId: newMonitorId, newJitterSeed },
        v.specs,
        { prune: req.prune, dryRun: req.dryRun, actor: ctx.values.get(kActor) },
      );
      if (!r.ok) throw new ConnectError(r.error, Code.FailedPrecondition);
      const o = r.outcome;
      if (o.applied && o.created.length + o.updated.length + o.deleted.length > 0) d.onMonitorsChanged?.();
      return {
        created: o.created.map(planned),
        updated: o.updated.map(planned),
        deleted: o.deleted.map(planned),
        unchanged: o.unchanged.map(planned),
        kept: o.kept,
        applied: o.applied,
      };
    },

    async getMonitor(req) {
      const m = await d.store.getMonitor(requireId(req.id));
      if (!m) throw notFound(req.id);
      return { monitor: monitorToProto(m) };
    },

    async updateMonitor(req, ctx: HandlerContext) {
      const id = requireId(req.id);
      const current = await d.store.getMonitor(id);
      if (!current || current.deleted_at !== null) throw notFound(id);
      if (isSystemMonitor(current)) throw systemOwned(id);
      const merged = applyUpdateMask(specToInput(current), monitorInputFromProto(req.monitor), req.updateMask);
      if (!merged.ok) throw invalid(merged.error);
      const v = validateMonitorInput(merged.merged);
      if (!v.ok) throw invalid(v.error);
      const m = await d.store.updateMonitor(id, v.spec, { actor: ctx.values.get(kActor), now: d.now() });
      if (!m) throw notFound(id);
      d.onMonitorsChanged?.();
      return { monitor: monitorToProto(m) };
    },

    async deleteMonitor(req, ctx: HandlerContext) {
      const id = requireId(req.id);
      const current = await d.store.getMonitor(id);
      if (current && isSystemMonitor(current)) throw systemOwned(id);
      const m = await d.store.deleteMonitor(id, { actor: ctx.values.get(kActor), now: d.now() });
      if (!m) throw notFound(id);
      return { monitor: monitorToProto(m) };
    },

    async listMonitors(req) {
      const limit = clampLimit(req.limit);
      let after: string | undefined;
      if (req.pageToken !== '') {
        after = Buffer.from(req.pageToken, 'base64url').toString('utf8');
        if (after === '') throw invalid('page_token: not a token from this API');
      }
      if (hasListFilter(req)) {
        if (!d.dashboard) throw new ConnectError('search, statuses, region, type and with_summary need the dashboard queries, which this server does not serve', Code.Unimplemented);
        return filteredMonitorPage({ store: d.store, dashboard: d.dashboard, now: d.now }, req, { limit, after });
      }
      const rows = await d.store.listMonitors({ includeDeleted: req.includeDeleted, limit: limit + 1, after });
      const page = rows.slice(0, limit);
      const next = rows.length > limit ? Buffer.from(page[page.length - 1]!.id).toString('base64url') : '';
      // System-owned monitors (backend probes) are not the user's: GET /latency shows what they measure.
      // The page token follows the raw rows, so a page may hold fewer than `limit` monitors.
      return { monitors: page.filter((m) => !isSystemMonitor(m)).map(monitorToProto), nextPageToken: next };
    },

    async listResults(req) {
      const monitorId = requireId(req.monitorId);
      if (!(await d.store.getMonitor(monitorId))) throw notFound(monitorId);
      const rows = await d.store.listResults({
        monitorId,
        from: toNum(req.fromMs) || undefined,
        to: toNum(req.toMs) || undefined,
        region: req.region || undefined,
        limit: clampLimit(req.limit),
      });
      return { results: rows.map(resultToProto) };
    },

    async getMetrics(req) {
      const monitorId = requireId(req.monitorId);
      if (!(await d.store.getMonitor(monitorId))) throw notFound(monitorId);
      if (!['', '1m', '1h', '1d'].includes(req.resolution)) throw invalid(`resolution: expected 1m, 1h or 1d, got "${req.resolution}"`);
      const now = d.now();
      const to = toNum(req.toMs) || now + 1;
      const from = toNum(req.fromMs) || to - DAY;
      if (from >= to) throw invalid('from_ms must be before to_ms');
      const r = await queryMetrics(d.store, {
        monitorId,
        from,
        to,
        resolution: (req.resolution || undefined) as Resolution | undefined,
        region: req.region || undefined,
      });
      return { resolution: r.resolution, points: r.points.map(pointToProto), total: pointToProto(r.total) };
    },

    async getUptime(req) {
      const monitorId = requireId(req.monitorId);
      if (!(await d.store.getMonitor(monitorId))) throw notFound(monitorId);
      const u = await uptimeWindows(d.store, monitorId, d.now(), req.region || undefined);
      return { last24h: pointToProto(u.last_24h), last7d: pointToProto(u.last_7d), last30d: pointToProto(u.last_30d) };
    },

    async listWorkers() {
      const workers = await d.store.listWorkers();
      return { workers: workers.map((w) => workerToProto(w, d.streams?.get(w.id) !== undefined)) };
    },

    async listAuditEvents(req) {
      const events = await d.store.listAudit({ entityId: req.entityId || undefined, limit: clampLimit(req.limit) });
      return { events: events.map(auditToProto) };
    },
  };
}
