import type { BackendStats } from '../routing/types.js';
import type { ApiDeps } from './deps.js';
import { HttpError, sendJson } from '../../http/errors.js';
import type { Handler } from '../../http/pipeline.js';
import { parseBody } from '../../api/lb/parse-body.js';
import { StatsBodySchema, type StatsBody } from '../../api/lb/wire.js';

export function toStats(b: StatsBody, receivedAt: number): BackendStats {
  const hasLoc = b.latitude !== undefined && b.latitude !== null && b.longitude !== undefined && b.longitude !== null;
  return {
    timestamp: b.timestamp !== undefined ? Date.parse(b.timestamp) : receivedAt,
    cpuUsage: b.cpu_usage_avg,
    memoryTotalGb: b.memory_total_gb,
    memoryUsedGb: b.memory_used_gb,
    memoryAvailGb: b.memory_avail_gb,
    diskTotalGb: b.disk_total_gb,
    diskUsedGb: b.disk_used_gb,
    diskAvailGb: b.disk_avail_gb,
    gpus: (b.gpus ?? []).map((g) => ({
      deviceId: g.device_id,
      name: g.name,
      utilizationPct: g.utilization_pct ?? null,
      memoryUsedGb: g.memory_used_gb ?? null,
      memoryTotalGb: g.memory_total_gb ?? null,
      temperatureC: g.temperature_c ?? null,
      powerDrawW: g.power_draw_w ?? null,
    })),
    ...(hasLoc ? { lat: b.latitude, lon: b.longitude } : {}),
  };
}

/**
 * POST /stats: applies the report to the in-memory fleet at once and queues it for the database (written
 * behind, in batches). An unknown client_id answers 404 so the agent re-registers.
 */
export function statsHandler(d: ApiDeps): Handler {
  return (ctx) => {
    const body = parseBody(StatsBodySchema, ctx.json);
    const now = d.now();
    const stats = toStats(body, now);
    if (!d.engine.reportStats(body.client_id, stats, now)) {
      throw new HttpError(404, `unknown client_id "${body.client_id}": register first with POST /register`, {
        field: 'client_id',
      });
    }
    d.metrics.statsReport();
    d.writeBehind.addStats({
      clientId: body.client_id,
      timestamp: stats.timestamp,
      cpuUsage: stats.cpuUsage,
      memoryTotalGb: stats.memoryTotalGb,
      memoryUsedGb: stats.memoryUsedGb,
      memoryAvailGb: stats.memoryAvailGb,
      diskTotalGb: stats.diskTotalGb,
      diskUsedGb: stats.diskUsedGb,
      diskAvailGb: stats.diskAvailGb,
      gpus: stats.gpus,
    });
    d.writeBehind.touch(
      stats.lat !== undefined
        ? { clientId: body.client_id, lastSeen: now, location: { lat: stats.lat ?? null, lon: stats.lon ?? null } }
        : { clientId: body.client_id, lastSeen: now },
    );
    sendJson(ctx.res, 200, { status: 'ok' });
  };
}
