import type { LatestTotals } from '../metrics/sampler.js';
import { key } from '../metrics/sampler.js';
import type { SlidingWindow } from '../metrics/window.js';
import type { EndpointRuleBody, GpuStats, RegisterRequest, StatsRequest } from '../../api/lb/wire.js';

/** Who this agent is and where it is. */
export interface Identity {
  clientId: string;
  hostname: string;
  localIp: string;
  publicIp: string;
  endpointUrl: string;
  /** client.yml `endpoints` (path-based endpoint selection); empty = endpointUrl only. */
  endpoints?: readonly EndpointRuleBody[];
}

/** Geolocation result; `null` coordinates mean unknown. */
export interface Location {
  latitude: number | null;
  longitude: number | null;
  country: string;
  city: string;
  /** The public IP the location was derived from or discovered on the way (may be ''). */
  publicIp: string;
  source: 'config' | 'mmdb' | 'ipapi' | 'none';
}

const GIB = 1024 ** 3;
const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
const gib = (bytes: number): number => round(bytes / GIB, 3);
const mibToGib = (mib: number): number => round(mib / 1024, 3);

/** Thrown when the host cannot be reported yet (no memory figure, no CPU reading). */
export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
}

export function buildRegister(latest: LatestTotals, id: Identity, loc: Location): RegisterRequest {
  if (latest.cores.length === 0 || latest.memoryTotalBytes === null) {
    throw new NotReadyError('no CPU or memory reading yet');
  }
  const req: RegisterRequest = {
    client_id: id.clientId,
    hostname: id.hostname,
    public_ip: loc.publicIp !== '' ? loc.publicIp : id.publicIp,
    local_ip: id.localIp,
    latitude: loc.latitude,
    longitude: loc.longitude,
    country: loc.country,
    city: loc.city,
    total_cpu: latest.cores.length,
    total_memory_gb: gib(latest.memoryTotalBytes),
    total_storage_gb: gib(latest.diskTotalBytes ?? 0),
    endpoint_url: id.endpointUrl,
  };
  if (latest.gpus.length > 0) {
    req.total_gpus = latest.gpus.length;
    req.gpu_models = latest.gpus.map((g) => g.name);
  }
  if (id.endpoints !== undefined && id.endpoints.length > 0) req.endpoints = id.endpoints.map((e) => ({ url: e.url, paths: [...e.paths] }));
  return req;
}

/**
 * Builds a /stats body from the window ending at `now`. CPU usage is the window mean per
 * currently online core; a core with no reading yet (just hot-plugged in) is left out,
 * and `cpu_cores` is the length of the array sent.
 */
export function buildStats(
  window: SlidingWindow,
  latest: LatestTotals,
  id: Identity,
  loc: Location,
  now: number,
): StatsRequest {
  const usage: number[] = [];
  for (const core of latest.cores) {
    const avg = window.average(key.cpu(core), now);
    if (avg !== null) usage.push(round(avg, 2));
  }
  if (usage.length === 0 || latest.memoryTotalBytes === null) {
    throw new NotReadyError('no CPU or memory reading in the window yet');
  }
  const memTotal = latest.memoryTotalBytes;
  const memUsed = window.average(key.memUsed, now) ?? 0;
  const memAvail = window.average(key.memAvail, now) ?? Math.max(0, memTotal - memUsed);
  const diskTotal = latest.diskTotalBytes ?? 0;
  const diskUsed = window.average(key.diskUsed, now) ?? 0;
  const diskAvail = window.average(key.diskAvail, now) ?? Math.max(0, diskTotal - diskUsed);
  const req: StatsRequest = {
    client_id: id.clientId,
    hostname: id.hostname,
    timestamp: new Date(now).toISOString(),
    cpu_cores: usage.length,
    cpu_usage_avg: usage,
    memory_total_gb: gib(memTotal),
    memory_used_gb: gib(memUsed),
    memory_avail_gb: gib(memAvail),
    disk_total_gb: gib(diskTotal),
    disk_used_gb: gib(diskUsed),
    disk_avail_gb: gib(diskAvail),
  };
  if (latest.gpus.length > 0) {
    req.gpus = latest.gpus.map((g): GpuStats => {
      const util = window.average(key.gpu(g.index, 'util'), now);
      const memUsedMiB = window.average(key.gpu(g.index, 'mem_used'), now);
      const temp = window.average(key.gpu(g.index, 'temp'), now);
      const power = window.average(key.gpu(g.index, 'power'), now);
      const s: GpuStats = {
        device_id: g.index,
        name: g.name,
        utilization_pct: util === null ? null : round(util, 2),
        memory_used_gb: memUsedMiB === null ? null : mibToGib(memUsedMiB),
        memory_total_gb: g.memoryTotalMiB === null ? null : mibToGib(g.memoryTotalMiB),
        temperature_c: temp === null ? null : round(temp, 1),
      };
      if (power !== null) s.power_draw_w = round(power, 2);
      return s;
    });
  }
  const publicIp = loc.publicIp !== '' ? loc.publicIp : id.publicIp;
  if (publicIp !== '') req.public_ip = publicIp;
  if (loc.latitude !== null && loc.longitude !== null) {
    req.latitude = loc.latitude;
    req.longitude = loc.longitude;
  }
  if (loc.country !== '') req.country = loc.country;
  if (loc.city !== '') req.city = loc.city;
  return req;
}
