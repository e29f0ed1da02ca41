import type { BackendView } from '../routing/types.js';
import type { RttView } from '../routing/latency-matrix.js';
import type { ApiDeps } from './deps.js';
import { sendJson } from '../../http/errors.js';
import type { Handler } from '../../http/pipeline.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const mean = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

/**
 * One backend as GET /clients shows it. Unlike Opsen (display strings such as "12.5%" or "8.0/16.0"), every
 * value is a number with its unit in the field name.
 */
export function clientView(b: BackendView, lastHealthCheck: number | null = null, rtt: readonly RttView[] = []): Record<string, unknown> {
  const s = b.stats;
  const out: Record<string, unknown> = {
    client_id: b.clientId,
    hostname: b.hostname,
    endpoint: b.endpoint,
    endpoints: b.endpoints,
    public_ip: b.publicIp,
    local_ip: b.localIp,
    location: { latitude: b.lat, longitude: b.lon, country: b.country, city: b.city },
    cpu_cores: s ? s.cpuUsage.length : b.totalCpu,
    cpu_usage_pct: s ? mean(s.cpuUsage) : null,
    cpu_usage_per_core_pct: s ? s.cpuUsage : [],
    memory_total_gb: s ? s.memoryTotalGb : b.totalMemoryGb,
    memory_used_gb: s ? s.memoryUsedGb : null,
    memory_avail_gb: s ? s.memoryAvailGb : null,
    memory_usage_pct: s ? (s.memoryUsedGb / s.memoryTotalGb) * 100 : null,
    disk_total_gb: s ? s.diskTotalGb : b.totalStorageGb,
    disk_used_gb: s ? s.diskUsedGb : null,
    disk_avail_gb: s ? s.diskAvailGb : null,
    stats_timestamp: s ? iso(s.timestamp) : null,
    last_seen: iso(b.lastSeen),
    is_active: b.isActive,
    health_status: b.health,
    latency_ms: b.latencyMs,
    last_health_check: lastHealthCheck === null ? null : iso(lastHealthCheck),
    measured_rtt: rtt.map((e) => ({ region: e.region, rtt_ms: e.rttMs, samples: e.samples, age_ms: e.ageMs })),
    pending: {
      reservations: b.pending.reservations,
      vcpu: b.pending.vcpu,
      memory_gb: b.pending.memoryGb,
      storage_gb: b.pending.storageGb,
      gpu_device_ids: b.pending.gpuDeviceIds,
    },
  };
  if (b.totalGpus > 0 || (s && s.gpus.length > 0)) {
    out.total_gpus = b.totalGpus;
    out.gpu_models = b.gpuModels;
    out.gpu_stats = (s?.gpus ?? []).map((g) => ({
      device_id: g.deviceId,
      name: g.name,
      utilization_pct: g.utilizationPct,
      memory_used_gb: g.memoryUsedGb,
      memory_total_gb: g.memoryTotalGb,
      temperature_c: g.temperatureC ?? null,
      power_draw_w: g.powerDrawW ?? null,
    }));
  }
  return out;
}

/** GET /clients (`?active_only=true` lists only backends that are not stale). */
export function clientsHandler(d: ApiDeps): Handler {
  return (ctx) => {
    const activeOnly = ctx.search !== '' && /^(1|true|yes)$/i.test(new URLSearchParams(ctx.search).get('active_only') ?? '');
    const list = d.engine.backends().filter((b) => !activeOnly || b.isActive);
    list.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
    const rtt = new Map<string, RttView[]>();
    for (const e of d.engine.latency.entries()) rtt.set(e.backendId, [...(rtt.get(e.backendId) ?? []), e]);
    sendJson(ctx.res, 200, list.map((b) => clientView(b, d.lastHealthCheck(b.clientId), rtt.get(b.clientId))));
  };
}

/** POST|DELETE /clients/purge: forgets stale backends (memory and database; on PostgreSQL on every replica). */
export function purgeHandler(d: ApiDeps): Handler {
  return async (ctx) => {
    const ids = d.engine.purgeStale();
    const deleted = ids.length > 0 ? await d.lb.deleteClients(ids) : 0;
    d.logger.info({ purged: ids.length, deleted }, 'purged stale clients');
    sendJson(ctx.res, 200, { status: 'ok', purged: ids.length, client_ids: ids });
  };
}

/**
 * POST|DELETE /clients/purge-pending: drops every reservation (on PostgreSQL on every replica: each holds its
 * own in memory; `cleared` counts this replica's).
 */
export function purgePendingHandler(d: ApiDeps): Handler {
  return async (ctx) => {
    const cleared = d.engine.clearReservations();
    await d.lb.announceClearReservations?.();
    d.logger.info({ cleared }, 'dropped all pending reservations');
    sendJson(ctx.res, 200, { status: 'ok', cleared });
  };
}

/** GET /health (no auth). */
export function healthHandler(d: ApiDeps): Handler {
  return (ctx) => {
    const c = d.engine.counts();
    const down = d.databaseDown?.() ?? null;
    if (down !== null) {
      sendJson(ctx.res, 503, { status: 'unavailable', reason: down, timestamp: iso(d.now()), total_clients: c.total, active_clients: c.active });
      return;
    }
    sendJson(ctx.res, 200, { status: 'healthy', timestamp: iso(d.now()), total_clients: c.total, active_clients: c.active });
  };
}

/** GET /metrics: Prometheus text exposition of this server's registry. */
export function metricsHandler(d: ApiDeps): Handler {
  return async (ctx) => {
    const text = await d.registry.metrics();
    ctx.res.writeHead(200, { 'content-type': d.registry.contentType, 'content-length': Buffer.byteLength(text) });
    ctx.res.end(text);
  };
}
