/**
 * The load-balancer rows as both databases store them (the same column names, JSON as text) and their mapping to
 * the store's records: one definition for src/store/sqlite/lb.ts and src/store/postgres/lb.ts.
 */
import type { LbClient, LbEndpointRule, LbGpuStats, LbStats } from './lb.js';

export interface ClientRow {
  client_id: string;
  hostname: string;
  public_ip: string | null;
  local_ip: string | null;
  latitude: number | null;
  longitude: number | null;
  country: string | null;
  city: string | null;
  total_cpu: number;
  total_memory: number;
  total_storage: number;
  total_gpus: number;
  gpu_models: string;
  endpoint: string;
  endpoints_json: string;
  created_at: number;
  last_seen: number;
}

export interface StatsRow {
  client_id: string;
  timestamp: number;
  cpu_usage_json: string;
  memory_total: number;
  memory_used: number;
  memory_avail: number;
  disk_total: number;
  disk_used: number;
  disk_avail: number;
  gpu_stats_json: string;
}


export function parseJsonArray<T>(text: string): T[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

export function toClient(r: ClientRow): LbClient {
  return {
    clientId: r.client_id,
    hostname: r.hostname,
    endpoint: r.endpoint,
    publicIp: r.public_ip,
    localIp: r.local_ip,
    lat: r.latitude,
    lon: r.longitude,
    country: r.country,
    city: r.city,
    totalCpu: r.total_cpu,
    totalMemoryGb: r.total_memory,
    totalStorageGb: r.total_storage,
    totalGpus: r.total_gpus,
    gpuModels: parseJsonArray<string>(r.gpu_models),
    endpoints: parseJsonArray<LbEndpointRule>(r.endpoints_json),
    createdAt: r.created_at,
    lastSeen: r.last_seen,
  };
}

export function toStats(r: StatsRow): LbStats {
  return {
    clientId: r.client_id,
    timestamp: r.timestamp,
    cpuUsage: parseJsonArray<number>(r.cpu_usage_json),
    memoryTotalGb: r.memory_total,
    memoryUsedGb: r.memory_used,
    memoryAvailGb: r.memory_avail,
    diskTotalGb: r.disk_total,
    diskUsedGb: r.disk_used,
    diskAvailGb: r.disk_avail,
    gpus: parseJsonArray<LbGpuStats>(r.gpu_stats_json),
  };
}
