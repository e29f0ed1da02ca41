/** The engine's record of one backend: registration, latest stats, health, index membership. */
import { compileRules } from './endpoints.js';
import type { CompiledRules } from './endpoints.js';
import type { DerivedStats } from './derived.js';
import { emptyPending } from './filter.js';
import type { PendingState } from './filter.js';
import type { GeoPoint } from './geo.js';
import type { KdItem, KdNode } from './kdtree.js';
import type { ScanBackend } from './scan.js';
import type { Scored } from './sorted.js';
import type { BackendRegistration, BackendStats, BackendView, HealthStatus, RegisteredBackend } from './types.js';

/** A registration with every optional field filled in (unknown = null, no rules = []), as stored and shown. */
export function registeredBackend(r: BackendRegistration): RegisteredBackend {
  return {
    clientId: r.clientId,
    hostname: r.hostname,
    endpoint: r.endpoint,
    endpoints: r.endpoints ?? [],
    publicIp: r.publicIp ?? null,
    localIp: r.localIp ?? null,
    lat: r.lat,
    lon: r.lon,
    country: r.country ?? null,
    city: r.city ?? null,
    totalCpu: r.totalCpu,
    totalMemoryGb: r.totalMemoryGb,
    totalStorageGb: r.totalStorageGb,
    totalGpus: r.totalGpus,
    gpuModels: r.gpuModels,
  };
}

export class BackendState implements KdItem, Scored, ScanBackend {
  readonly id: string;
  reg: BackendRegistration;
  rules: CompiledRules | null = null;
  stats: BackendStats | null = null;
  d: DerivedStats | null = null;
  health: HealthStatus = 'unknown';
  latencyMs: number | null = null;
  lastSeen: number;
  geo: GeoPoint | null = null;
  ux = 0;
  uy = 0;
  uz = 0;
  kdLeaf: KdNode<KdItem> | null = null;
  /** member[slot] = 1 when indexed as a candidate for that tier. */
  member: Uint8Array;
  /** Precomputed non-distance score per tier slot (valid while member). */
  score: Float64Array;
  /** Taken out of the index after being found stale; re-indexed when it is seen again. */
  staleOut = false;
  readonly pending: PendingState = emptyPending();

  constructor(reg: BackendRegistration, slots: number, lastSeen: number) {
    this.id = reg.clientId;
    this.reg = reg;
    this.lastSeen = lastSeen;
    this.member = new Uint8Array(slots);
    this.score = new Float64Array(slots);
    this.setRegistration(reg);
  }

  setRegistration(reg: BackendRegistration): void {
    this.reg = reg;
    this.rules = reg.endpoints !== undefined && reg.endpoints.length > 0 ? compileRules(reg.endpoints) : null;
  }

  resetSlots(slots: number): void {
    this.member = new Uint8Array(slots);
    this.score = new Float64Array(slots);
  }

  view(isActive: boolean): BackendView {
    const r = this.reg;
    const p = this.pending;
    return {
      ...registeredBackend(r),
      endpoints: (r.endpoints ?? []).map((e) => ({ url: e.url, paths: [...e.paths] })),
      lat: this.geo?.lat ?? null,
      lon: this.geo?.lon ?? null,
      gpuModels: [...r.gpuModels],
      stats: this.stats,
      health: this.health,
      latencyMs: this.latencyMs,
      lastSeen: this.lastSeen,
      isActive,
      pending: { reservations: p.count, vcpu: p.cpu, memoryGb: p.mem, storageGb: p.disk, gpuDeviceIds: [...p.gpu.keys()].sort((a, b) => a - b) },
    };
  }
}
