/**
 * Synthetic backends for the route benchmark and the routing tests: deterministic (seeded),
 * realistic spreads of load, memory, disk, GPUs and locations (clustered around data-centre
 * cities), with a chosen share of backends that fail the filter for a reason of each kind.
 */
import { DEFAULT_TIERS } from '../../src/config/tiers.js';
import { RoutingEngine } from '../../src/lb/routing/engine.js';
import type { BackendRegistration, BackendStats, EngineOptions, GpuStats } from '../../src/lb/routing/types.js';

/** mulberry32: a small deterministic PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RegOptions {
  lat?: number | null;
  lon?: number | null;
  cpu?: number;
  memoryGb?: number;
  storageGb?: number;
  gpus?: number;
  endpoint?: string;
  endpoints?: BackendRegistration['endpoints'];
}

export function registration(clientId: string, o: RegOptions = {}): BackendRegistration {
  return {
    clientId,
    hostname: `host-${clientId}`,
    endpoint: o.endpoint ?? `http://${clientId}.internal:11000`,
    publicIp: null,
    localIp: null,
    lat: o.lat === undefined ? null : o.lat,
    lon: o.lon === undefined ? null : o.lon,
    country: null,
    city: null,
    totalCpu: o.cpu ?? 8,
    totalMemoryGb: o.memoryGb ?? 32,
    totalStorageGb: o.storageGb ?? 500,
    totalGpus: o.gpus ?? 0,
    gpuModels: [],
    ...(o.endpoints !== undefined ? { endpoints: o.endpoints } : {}),
  };
}

export interface StatsOptions {
  cpu?: number[];
  memTotal?: number;
  memUsed?: number;
  memAvail?: number;
  diskTotal?: number;
  diskAvail?: number;
  gpus?: GpuStats[];
  timestamp?: number;
  lat?: number | null;
  lon?: number | null;
}

/** Stats with sensible defaults: 8 idle-ish cores, 32 GB (8 used), 500 GB disk (400 free). */
export function stats(o: StatsOptions = {}): BackendStats {
  const memTotal = o.memTotal ?? 32;
  const memUsed = o.memUsed ?? 8;
  const diskTotal = o.diskTotal ?? 500;
  const diskAvail = o.diskAvail ?? 400;
  return {
    timestamp: o.timestamp ?? 0,
    cpuUsage: o.cpu ?? [10, 10, 10, 10, 10, 10, 10, 10],
    memoryTotalGb: memTotal,
    memoryUsedGb: memUsed,
    memoryAvailGb: o.memAvail ?? memTotal - memUsed,
    diskTotalGb: diskTotal,
    diskUsedGb: diskTotal - diskAvail,
    diskAvailGb: diskAvail,
    gpus: o.gpus ?? [],
    ...(o.lat !== undefined ? { lat: o.lat } : {}),
    ...(o.lon !== undefined ? { lon: o.lon } : {}),
  };
}

export function gpu(deviceId: number, utilizationPct: number | null, memoryUsedGb: number | null, memoryTotalGb: number | null): GpuStats {
  return { deviceId, name: 'NVIDIA H100', utilizationPct, memoryUsedGb, memoryTotalGb };
}

/** Data-centre-like cities the synthetic fleet clusters around. */
export const CITIES: readonly (readonly [number, number])[] = [
  [40.71, -74.0], [37.77, -122.42], [41.88, -87.63], [47.61, -122.33], [32.78, -96.8],
  [51.51, -0.13], [50.11, 8.68], [52.37, 4.9], [48.86, 2.35], [59.33, 18.07],
  [35.68, 139.69], [1.35, 103.82], [22.32, 114.17], [-33.87, 151.21], [19.08, 72.88],
  [-23.55, -46.63], [43.65, -79.38], [25.2, 55.27], [37.57, 126.98], [-26.2, 28.05],
]; // prettier-ignore

export type FailKind = 'stale' | 'unhealthy' | 'cpu' | 'memory' | 'disk';

export interface FleetMember {
  reg: BackendRegistration;
  stats: BackendStats;
  /** Why it fails the filter for every tier, or null when it is meant to pass (small tiers). */
  fail: FailKind | null;
  health: 'healthy' | 'unhealthy';
  latencyMs: number;
  /** Report it this long before "now" (stale members are older than stale_minutes). */
  ageMs: number;
}

export interface FleetOptions {
  seed?: number;
  /** Share of backends failing the filter (default 0.25), spread over the FailKind kinds. */
  failShare?: number;
  /** Share of backends with GPUs (default 0.2). */
  gpuShare?: number;
  /** Share with an unknown location (default 0.05). */
  unknownLocationShare?: number;
  staleMs?: number;
}

const FAIL_KINDS: readonly FailKind[] = ['stale', 'unhealthy', 'cpu', 'memory', 'disk'];

/** n synthetic backends with varied metrics; `failShare` of them fail the filter. */
export function syntheticFleet(n: number, o: FleetOptions = {}): FleetMember[] {
  const rnd = prng(o.seed ?? 42);
  const failShare = o.failShare ?? 0.25;
  const gpuShare = o.gpuShare ?? 0.2;
  const unknownShare = o.unknownLocationShare ?? 0.05;
  const staleMs = o.staleMs ?? 5 * 60_000;
  const out: FleetMember[] = [];
  const pad = String(n).length;
  for (let i = 0; i < n; i++) {
    const id = `be-${String(i).padStart(pad, '0')}`;
    const fail: FailKind | null = rnd() < failShare ? FAIL_KINDS[Math.floor(rnd() * FAIL_KINDS.length)]! : null;
    const cores = [4, 8, 16, 32, 64][Math.floor(rnd() * 5)]!;
    const base = rnd() * 60;
    const cpu: number[] = [];
    for (let c = 0; c < cores; c++) cpu.push(fail === 'cpu' ? 85 + rnd() * 15 : Math.min(100, Math.max(0, base + (rnd() - 0.5) * 40)));
    const memTotal = [16, 32, 64, 128, 256][Math.floor(rnd() * 5)]!;
    const memAvail = fail === 'memory' ? rnd() * 0.5 : memTotal * (0.3 + rnd() * 0.65);
    const diskTotal = [250, 500, 1000, 2000][Math.floor(rnd() * 4)]!;
    const diskAvail = fail === 'disk' ? rnd() * 2 : diskTotal * (0.3 + rnd() * 0.6);
    const gpus: GpuStats[] = [];
    const hasGpu = rnd() < gpuShare;
    if (hasGpu) {
      const count = [1, 2, 4, 8][Math.floor(rnd() * 4)]!;
      const vram = [24, 48, 80][Math.floor(rnd() * 3)]!;
      for (let g = 0; g < count; g++) gpus.push(gpu(g, Math.round(rnd() * 100), Math.round(rnd() * vram * 0.7), vram));
    }
    let lat: number | null = null;
    let lon: number | null = null;
    if (rnd() >= unknownShare) {
      const city = CITIES[Math.floor(rnd() * CITIES.length)]!;
      lat = city[0] + (rnd() - 0.5) * 4;
      lon = city[1] + (rnd() - 0.5) * 4;
    }
    out.push({
      reg: registration(id, { lat, lon, cpu: cores, memoryGb: memTotal, storageGb: diskTotal, gpus: gpus.length }),
      stats: stats({ cpu, memTotal, memUsed: memTotal - memAvail, memAvail, diskTotal, diskAvail, gpus }),
      fail,
      health: fail === 'unhealthy' ? 'unhealthy' : 'healthy',
      latencyMs: 1 + rnd() * 80,
      ageMs: fail === 'stale' ? staleMs + 60_000 + rnd() * 600_000 : rnd() * 60_000,
    });
  }
  return out;
}

/** Random request locations near the fleet's cities (plus some far from any). */
export function syntheticUserLocations(count: number, seed = 7): { lat: number; lon: number }[] {
  const rnd = prng(seed);
  const out: { lat: number; lon: number }[] = [];
  for (let i = 0; i < count; i++) {
    if (rnd() < 0.1) out.push({ lat: (rnd() - 0.5) * 160, lon: (rnd() - 0.5) * 360 });
    else {
      const c = CITIES[Math.floor(rnd() * CITIES.length)]!;
      out.push({ lat: c[0] + (rnd() - 0.5) * 10, lon: c[1] + (rnd() - 0.5) * 10 });
    }
  }
  return out;
}

/** Registers and reports every member into an engine as of `now`. */
export function loadFleet(engine: RoutingEngine, fleet: readonly FleetMember[], now: number): void {
  for (const m of fleet) {
    const seen = now - m.ageMs;
    engine.register(m.reg, seen);
    engine.reportStats(m.reg.clientId, m.stats, seen);
    engine.setHealth(m.reg.clientId, m.health, m.latencyMs);
  }
}

/** A manual clock for engines under test. */
export interface ManualClock {
  readonly now: () => number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let t = start;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/**
 * An engine on a manual clock with the tests' usual options (the default tiers, stale after 5
 * minutes, reservations for 120 s, sticky affinity and health checks on); `opts` overrides any.
 */
export function testEngine(opts: Partial<EngineOptions> = {}): { clock: ManualClock; engine: RoutingEngine } {
  const clock = manualClock();
  const engine = new RoutingEngine({
    tiers: DEFAULT_TIERS,
    staleMinutes: 5,
    pendingTimeoutSeconds: 120,
    stickyAffinity: true,
    healthCheckEnabled: true,
    now: clock.now,
    ...opts,
  });
  return { clock, engine };
}
