/** The Connect JSON shapes the dashboard reads (proto3 JSON: lowerCamelCase, int64 as strings, defaults omitted). */
export type Int64 = string;

export interface Monitor {
  id: string;
  name: string;
  owner?: string;
  type?: string;
  url?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  intervalMs?: Int64;
  timeoutMs?: Int64;
  assertions?: string[];
  regions?: string[];
  enabled?: boolean;
  optionsJson?: string;
  createdAtMs?: Int64;
  updatedAtMs?: Int64;
  nextDueAtMs?: Int64;
}
export interface MonitorSummary {
  monitorId: string;
  status: 'up' | 'down' | 'paused' | 'pending';
  recent?: string[];
  lastEventAtMs?: Int64;
  lastTotalMs?: number;
  uptime24hPct?: number;
  runs24h?: Int64;
}
export interface ListMonitorsResponse {
  monitors?: Monitor[];
  nextPageToken?: string;
  summaries?: MonitorSummary[];
  total?: number;
}
export interface CheckResult {
  runId: string;
  region?: string;
  workerId?: string;
  eventAtMs: Int64;
  status: string;
  httpCode?: number;
  dnsMs?: number;
  connectMs?: number;
  tlsMs?: number;
  ttfbMs?: number;
  downloadMs?: number;
  totalMs?: number;
  error?: string;
  errorClass?: string;
}
export interface MetricPoint {
  bucketStartMs?: Int64;
  count?: Int64;
  upCount?: Int64;
  errorCount?: Int64;
  uptimePct?: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
}
export interface Overview {
  monitorsTotal?: number;
  monitorsUp?: number;
  monitorsDown?: number;
  monitorsPaused?: number;
  monitorsPending?: number;
  runs24h?: Int64;
  failures24h?: Int64;
  recentFailures?: Array<{ monitorId: string; monitorName: string; region?: string; eventAtMs: Int64; status: string; httpCode?: number; error?: string; errorClass?: string }>;
  slowest?: Array<{ monitorId: string; monitorName: string; p95Ms?: number; p99Ms?: number }>;
}
export interface RegionHealth {
  region: string;
  connected?: number;
  active?: number;
  inactive?: number;
  revoked?: number;
  state: string;
  workers?: Array<{ id: string; hostname?: string; status: string; connected?: boolean; lastSeenAtMs?: Int64; version?: string }>;
}
export interface Gpu {
  deviceId?: number;
  name?: string;
  utilizationPct?: number;
  memoryUsedGb?: number;
  memoryTotalGb?: number;
  temperatureC?: number;
  powerDrawW?: number;
  reserved?: boolean;
}
export interface Backend {
  clientId: string;
  hostname?: string;
  endpoint?: string;
  city?: string;
  country?: string;
  totalCpu?: number;
  hasStats?: boolean;
  statsAtMs?: Int64;
  cpuUsagePct?: number[];
  memoryTotalGb?: number;
  memoryUsedGb?: number;
  diskTotalGb?: number;
  diskUsedGb?: number;
  gpus?: Gpu[];
  health?: string;
  latencyMs?: number;
  lastSeenMs?: Int64;
  active?: boolean;
  reservationCount?: number;
  reservedVcpu?: number;
  reservedMemoryGb?: number;
  stickyCount?: number;
  reservations?: Array<{ id: string; tier: string; vcpu?: number; memoryGb?: number; stickyId?: string; expiresAtMs?: Int64 }>;
}
export interface Fleet {
  backends?: Backend[];
  total?: number;
  active?: number;
  stale?: number;
  unhealthy?: number;
  reservations?: number;
}
export interface Worker {
  id: string;
  hostname?: string;
  region?: string;
  version?: string;
  status: string;
  lastSeenAtMs?: Int64;
  connected?: boolean;
}
export interface AuditEvent {
  id: Int64;
  atMs: Int64;
  actor?: string;
  action: string;
  entityType?: string;
  entityId?: string;
}
export interface User {
  id: string;
  username: string;
  role: string;
  createdAtMs?: Int64;
}
