/** Store records ↔ vantage.v1 messages (int64 fields are bigint in @bufbuild/protobuf v2). */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  AuditEventSchema,
  CheckResultSchema,
  MetricPointSchema,
  MonitorInput,
  MonitorInputSchema,
  MonitorSchema,
  WorkerSchema,
} from '../../gen/vantage/v1/monitors_pb.js';
import type { AuditEvent, MonitorRecord, ResultRecord, WorkerRecord } from '../../store/monitoring.js';
import type { RollupSummary } from '../../monitoring/domain/rollup-math.js';
import type { MonitorInputData } from './validation.js';

export const big = (n: number): bigint => BigInt(Math.trunc(n));
const optBig = (n: number | null | undefined): bigint | undefined => (n === null || n === undefined ? undefined : big(n));
const opt = (n: number | null | undefined): number | undefined => (n === null || n === undefined ? undefined : n);

export function monitorToProto(m: MonitorRecord): MessageInitShape<typeof MonitorSchema> {
  return {
    id: m.id,
    name: m.name,
    owner: m.owner,
    type: m.type,
    url: m.url,
    method: m.method,
    headers: m.headers,
    body: m.body,
    intervalMs: big(m.interval_ms),
    timeoutMs: big(m.timeout_ms),
    assertions: m.assertions,
    regions: m.regions,
    enabled: m.enabled,
    optionsJson: JSON.stringify(m.options),
    createdAtMs: big(m.created_at),
    updatedAtMs: big(m.updated_at),
    deletedAtMs: optBig(m.deleted_at),
    lastScheduledAtMs: optBig(m.last_scheduled_at),
    nextDueAtMs: optBig(m.next_due_at),
  };
}

/**
 * Monitor message input → plain data for validation. Values beyond 2^53 are clamped so validation rejects
 * them; an unset interval/timeout stays undefined (takes the default), an explicit 0 stays 0 (refused).
 */
export function monitorInputFromProto(m: MonitorInput | undefined): MonitorInputData {
  const num = (b: bigint | undefined): number | undefined =>
    b === undefined ? undefined : b > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : b < 0n ? -1 : Number(b);
  if (!m) return {};
  return {
    name: m.name,
    type: m.type,
    url: m.url,
    method: m.method,
    headers: { ...m.headers },
    body: m.body,
    interval_ms: num(m.intervalMs),
    timeout_ms: num(m.timeoutMs),
    assertions: [...m.assertions],
    regions: [...m.regions],
    enabled: m.enabled,
    options_json: m.optionsJson,
  };
}

/** Plain MonitorInput data → the message (what a client sends; the inverse of monitorInputFromProto). */
export function monitorInputToProto(m: MonitorInputData): MessageInitShape<typeof MonitorInputSchema> {
  return {
    name: m.name ?? '',
    type: m.type ?? '',
    url: m.url ?? '',
    method: m.method ?? '',
    headers: m.headers ?? {},
    body: m.body ?? '',
    // Unset stays unset (the server applies the default); 0 is a value, and refused.
    intervalMs: m.interval_ms === undefined ? undefined : big(m.interval_ms),
    timeoutMs: m.timeout_ms === undefined ? undefined : big(m.timeout_ms),
    assertions: m.assertions ?? [],
    regions: m.regions ?? [],
    enabled: m.enabled,
    optionsJson: m.options_json ?? '',
  };
}

export function resultToProto(r: ResultRecord): MessageInitShape<typeof CheckResultSchema> {
  return {
    runId: r.run_id,
    monitorId: r.monitor_id,
    region: r.region,
    workerId: r.worker_id ?? '',
    eventAtMs: big(r.event_at),
    status: r.status,
    httpCode: r.http_code ?? 0,
    dnsMs: opt(r.dns_ms),
    connectMs: opt(r.connect_ms),
    tlsMs: opt(r.tls_ms),
    ttfbMs: opt(r.ttfb_ms),
    downloadMs: opt(r.download_ms),
    totalMs: opt(r.total_ms),
    sizeBytes: optBig(r.size_bytes),
    error: r.error ?? '',
    errorClass: r.error_class ?? '',
    assertionsJson: r.assertions ?? '',
    startedAtMs: big(r.started_at ?? 0),
    finishedAtMs: big(r.finished_at ?? 0),
  };
}

export function pointToProto(p: RollupSummary): MessageInitShape<typeof MetricPointSchema> {
  return {
    bucketStartMs: big(p.bucket_start),
    count: big(p.count),
    upCount: big(p.up_count),
    errorCount: big(p.error_count),
    errorRate: p.error_rate,
    uptimePct: p.uptime_pct,
    minMs: opt(p.min_ms),
    maxMs: opt(p.max_ms),
    avgMs: opt(p.avg_ms),
    p50Ms: opt(p.p50_ms),
    p95Ms: opt(p.p95_ms),
    p99Ms: opt(p.p99_ms),
  };
}

export function workerToProto(w: WorkerRecord, connected: boolean): MessageInitShape<typeof WorkerSchema> {
  return {
    id: w.id,
    hostname: w.hostname,
    region: w.region,
    version: w.version,
    status: w.status,
    enrolledAtMs: big(w.enrolled_at),
    lastSeenAtMs: big(w.last_seen_at),
    certificateExpiresAtMs: optBig(w.certificate_expires_at),
    revokedAtMs: optBig(w.revoked_at),
    revokedReason: w.revoked_reason ?? '',
    connected,
  };
}

export function auditToProto(e: AuditEvent): MessageInitShape<typeof AuditEventSchema> {
  return {
    id: big(e.id),
    atMs: big(e.at),
    actor: e.actor,
    action: e.action,
    entityType: e.entity_type,
    entityId: e.entity_id,
    beforeJson: e.before ?? '',
    afterJson: e.after ?? '',
  };
}
