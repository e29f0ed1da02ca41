/**
 * Which backend probe monitors should exist: one per (registered backend, region with workers), a
 * TCP connect to the backend's endpoint, or an HTTP GET of `health_check_path` when
 * `health_check_type: http`, every `region_probe_interval_seconds`, leased only to that region.
 * The HTTP probe names its region in X-Vantage-Probe-Region, so a backend (or anything on the path)
 * can tell probe traffic from user traffic. Pure: no I/O.
 */
import type { MonitorSpec } from '../../store/monitoring.js';

export const PROBE_REGION_HEADER = 'X-Vantage-Probe-Region';
const ID_PREFIX = 'sys-probe.';

export interface ProbeConfig {
  health_check_type: 'tcp' | 'http';
  health_check_path: string;
  health_check_timeout_seconds: number;
  region_probe_interval_seconds: number;
}

export interface ProbedBackend {
  clientId: string;
  endpoint: string;
}

/** Percent-encoding that also encodes '.', the separator of the id's parts. */
const enc = (s: string): string => encodeURIComponent(s).replace(/\./g, '%2E');

/** The key of a (region, backend) probe in a plan. */
export function probeKey(region: string, clientId: string): string {
  return `${enc(region)}.${enc(clientId)}`;
}

/**
 * The monitor id of a (region, backend) probe: its key plus a creation tag, since a removed probe's
 * soft-deleted row keeps its id and a backend that comes back gets a new monitor.
 */
export function probeId(region: string, clientId: string, tag: string): string {
  return `${ID_PREFIX}${probeKey(region, clientId)}.${tag}`;
}

export function parseProbeId(id: string): { region: string; clientId: string } | null {
  if (!id.startsWith(ID_PREFIX)) return null;
  const parts = id.slice(ID_PREFIX.length).split('.');
  if (parts.length !== 3) return null;
  try {
    return { region: decodeURIComponent(parts[0]!), clientId: decodeURIComponent(parts[1]!) };
  } catch {
    return null;
  }
}

/** tcp://host:port of an endpoint URL (its port, else the scheme's); null when it is not a URL. */
function tcpUrl(endpoint: string): string | null {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return null;
  }
  const port = u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80';
  return `tcp://${u.hostname}:${port}`;
}

function httpUrl(endpoint: string, path: string): string | null {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return null;
  }
}

/** The monitors that should exist, by probe key. Backends whose endpoint is not a URL get none. */
export interface PlannedProbe {
  region: string;
  clientId: string;
  spec: MonitorSpec;
}

export function plannedProbes(backends: readonly ProbedBackend[], regions: readonly string[], cfg: ProbeConfig): Map<string, PlannedProbe> {
  const out = new Map<string, PlannedProbe>();
  for (const b of backends) {
    const http = cfg.health_check_type === 'http';
    const url = http ? httpUrl(b.endpoint, cfg.health_check_path) : tcpUrl(b.endpoint);
    if (url === null) continue;
    for (const region of regions) {
      const spec: MonitorSpec = {
        name: `backend probe ${b.clientId} from ${region}`,
        type: http ? 'http' : 'tcp',
        url,
        method: 'GET',
        headers: http ? { [PROBE_REGION_HEADER]: region } : {},
        body: '',
        interval_ms: cfg.region_probe_interval_seconds * 1000,
        timeout_ms: cfg.health_check_timeout_seconds * 1000,
        assertions: [],
        assertions_compiled: [],
        options: {},
        regions: [region],
        enabled: true,
      };
      out.set(probeKey(region, b.clientId), { region, clientId: b.clientId, spec });
    }
  }
  return out;
}

/** Whether a stored monitor differs from its plan in a field the plan sets. */
export function probeChanged(have: MonitorSpec, want: MonitorSpec): boolean {
  return (
    have.type !== want.type ||
    have.url !== want.url ||
    have.interval_ms !== want.interval_ms ||
    have.timeout_ms !== want.timeout_ms ||
    JSON.stringify(have.headers) !== JSON.stringify(want.headers) ||
    JSON.stringify(have.regions) !== JSON.stringify(want.regions) ||
    have.enabled !== want.enabled
  );
}

/**
 * The round trip a probe result measured: the TCP connect time; for an HTTP probe the time to first
 * byte (one request round trip over the open connection, which is what a delaying path shows), else
 * its connect time. null for a down result or one without timings.
 */
export function probeRttMs(type: string, r: { status: string; connect_ms: number | null; ttfb_ms: number | null }): number | null {
  if (r.status !== 'up') return null;
  if (type === 'http' && r.ttfb_ms !== null) return r.ttfb_ms;
  return r.connect_ms;
}
