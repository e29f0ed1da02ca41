/**
 * The fleet index: every backend by id, plus, per tier, the statically eligible backends (those
 * that pass the filter with no reservations, are not unhealthy and have not been found stale)
 * ordered by their precomputed non-distance score, and a spatial index over the located ones.
 *
 * This module keeps that bookkeeping consistent as registrations, stats, health and locations
 * change (`reindex`, `setLocation`, `remove`); the engine decides with it. Pure: no I/O.
 */
import type { BackendState } from './backend-state.js';
import type { DerivedStats } from './derived.js';
import { freeGpuCount } from './gpus.js';
import type { GeoPoint } from './geo.js';
import { KdIndex } from './kdtree.js';
import { enough } from './filter.js';
import { cpuTermFromPrefix, gpuTerm, nonDistanceScore } from './score.js';
import { ScoreOrder } from './sorted.js';
import type { Tier } from './types.js';

/** One tier's part of the index. */
export interface TierIndex {
  readonly tier: Tier;
  readonly slot: number;
  /** Every indexed member, by (score, id). */
  readonly all: ScoreOrder<BackendState>;
  /** Indexed members with unknown location, by (score, id). */
  readonly unlocated: ScoreOrder<BackendState>;
}

/** Whether stats alone (no reservations) let a backend serve the tier. */
export function staticOk(d: DerivedStats, tier: Tier): boolean {
  return (
    enough(d.coresFree, 0, tier.vcpu) &&
    enough(d.memAvail, 0, tier.memory_gb) &&
    enough(d.diskAvail, 0, tier.storage_gb) &&
    (tier.gpu <= 0 || freeGpuCount(d, tier.gpu_memory_gb, null, null) >= tier.gpu)
  );
}

/** The fields of an indexed backend that the index bookkeeping reads. */
export type IndexedBackend = Pick<BackendState, 'id' | 'd' | 'staleOut' | 'health' | 'latencyMs' | 'geo' | 'member' | 'score'>;

/** A read-only view of the index, for consistency checks. */
export interface FleetIndexView {
  readonly healthCheckEnabled: boolean;
  readonly fleet: ReadonlyMap<string, IndexedBackend>;
  readonly tiers: readonly {
    readonly tier: Tier;
    readonly slot: number;
    readonly all: readonly IndexedBackend[];
    readonly unlocated: readonly IndexedBackend[];
  }[];
  /** The spatial index's own check: every node's per-tier counts equal the members below it. */
  verifySpatial(): string[];
}

export class FleetIndex {
  readonly fleet = new Map<string, BackendState>();
  tiers: TierIndex[] = [];
  kd: KdIndex<BackendState>;
  private tierByName = new Map<string, TierIndex>();

  constructor(
    private readonly healthCheckEnabled: boolean,
    tiers: readonly Tier[],
  ) {
    this.kd = new KdIndex(tiers.length);
    this.install(tiers);
  }

  /** Replaces the tiers and rebuilds every per-tier structure for the current fleet. */
  install(tiers: readonly Tier[]): void {
    this.tiers = tiers.map((tier, slot) => ({
      tier: { ...tier },
      slot,
      all: new ScoreOrder<BackendState>(slot),
      unlocated: new ScoreOrder<BackendState>(slot),
    }));
    this.tierByName = new Map(this.tiers.map((t) => [t.tier.name, t]));
    this.kd = new KdIndex(tiers.length);
    for (const b of this.fleet.values()) {
      b.resetSlots(tiers.length);
      b.kdLeaf = null;
      if (b.geo !== null) this.kd.add(b);
      this.reindex(b);
    }
  }

  tier(name: string): TierIndex | undefined {
    return this.tierByName.get(name);
  }

  /** Takes b out of the fleet and out of every structure. */
  remove(b: BackendState): void {
    this.unindex(b);
    if (b.geo !== null) this.kd.remove(b);
    this.fleet.delete(b.id);
  }

  /** Moves b to location g (null: unknown), keeping the spatial index in step. */
  setLocation(b: BackendState, g: GeoPoint | null): void {
    const old = b.geo;
    if (old === null && g === null) return;
    if (old !== null && g !== null && old.lat === g.lat && old.lon === g.lon) return;
    this.unindex(b);
    if (old !== null) this.kd.remove(b);
    b.geo = g;
    if (g !== null) {
      b.ux = g.x;
      b.uy = g.y;
      b.uz = g.z;
      this.kd.add(b);
    }
  }

  /** Takes b out of every per-tier structure. */
  private unindex(b: BackendState): void {
    for (const rt of this.tiers) {
      const t = rt.slot;
      if (b.member[t] !== 1) continue;
      rt.all.remove(b);
      b.member[t] = 0;
      if (b.geo === null) rt.unlocated.remove(b);
      else this.kd.memberChanged(b, t, -1);
    }
  }

  /** Recomputes b's membership and precomputed score for every tier. */
  reindex(b: BackendState): void {
    const d = b.d;
    const base = d !== null && !b.staleOut && d.memValid && (!this.healthCheckEnabled || b.health !== 'unhealthy');
    const latency = this.healthCheckEnabled ? (b.latencyMs ?? 0) : 0;
    const located = b.geo !== null;
    for (const rt of this.tiers) {
      const t = rt.slot;
      const tier = rt.tier;
      const had = b.member[t] === 1;
      if (!base || !staticOk(d, tier)) {
        if (had) {
          rt.all.remove(b);
          b.member[t] = 0;
          if (located) this.kd.memberChanged(b, t, -1);
          else rt.unlocated.remove(b);
        }
        continue;
      }
      const s = nonDistanceScore(cpuTermFromPrefix(d.cpuPrefix, tier.vcpu), d.memUsedPct, gpuTerm(tier.gpu, d.gpuMeanUtil), latency);
      if (had) {
        if (s !== b.score[t]) {
          rt.all.move(b, s);
          if (!located) rt.unlocated.move(b, s);
          b.score[t] = s;
        }
      } else {
        b.score[t] = s;
        b.member[t] = 1;
        rt.all.insert(b);
        if (located) this.kd.memberChanged(b, t, 1);
        else rt.unlocated.insert(b);
      }
    }
  }

  view(): FleetIndexView {
    return {
      healthCheckEnabled: this.healthCheckEnabled,
      fleet: this.fleet,
      tiers: this.tiers.map((rt) => ({ tier: rt.tier, slot: rt.slot, all: rt.all.items, unlocated: rt.unlocated.items })),
      verifySpatial: () => this.kd.verify(),
    };
  }
}
