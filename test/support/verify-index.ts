/**
 * Checks a routing engine's fleet index against a recomputation from scratch: membership (the
 * static filter), precomputed scores, per-tier order, the unlocated lists and the spatial index's
 * counts. Returns the problems found (empty when consistent). Reads the engine through its
 * read-only `indexView()`.
 */
import type { RoutingEngine } from '../../src/lb/routing/engine.js';
import { staticOk } from '../../src/lb/routing/fleet-index.js';
import { cpuTermFromPrefix, gpuTerm, nonDistanceScore } from '../../src/lb/routing/score.js';

export function verifyIndex(engine: RoutingEngine): string[] {
  const view = engine.indexView();
  const fleet = view.fleet;
  const problems: string[] = [...view.verifySpatial()];
  for (const rt of view.tiers) {
    const t = rt.slot;
    for (const [list, located] of [
      [rt.all, null],
      [rt.unlocated, false],
    ] as const) {
      for (let i = 0; i < list.length; i++) {
        const b = list[i]!;
        if (fleet.get(b.id) !== b) problems.push(`${rt.tier.name}: ${b.id} indexed but not in the fleet`);
        if (b.member[t] !== 1) problems.push(`${rt.tier.name}: ${b.id} listed without membership`);
        if (located === false && b.geo !== null) problems.push(`${rt.tier.name}: located ${b.id} in the unlocated list`);
        const prev = list[i - 1];
        if (prev !== undefined && !(prev.score[t]! < b.score[t]! || (prev.score[t] === b.score[t] && prev.id < b.id))) {
          problems.push(`${rt.tier.name}: ${prev.id} before ${b.id} out of order`);
        }
      }
    }
    let members = 0;
    let unlocated = 0;
    for (const b of fleet.values()) {
      const d = b.d;
      const want = d !== null && !b.staleOut && d.memValid && (!view.healthCheckEnabled || b.health !== 'unhealthy') && staticOk(d, rt.tier);
      if ((b.member[t] === 1) !== want) problems.push(`${rt.tier.name}: ${b.id} membership ${b.member[t]} but should be ${want ? 1 : 0}`);
      if (b.member[t] === 1) {
        members++;
        if (b.geo === null) unlocated++;
        const latency = view.healthCheckEnabled ? (b.latencyMs ?? 0) : 0;
        const s = nonDistanceScore(cpuTermFromPrefix(d!.cpuPrefix, rt.tier.vcpu), d!.memUsedPct, gpuTerm(rt.tier.gpu, d!.gpuMeanUtil), latency);
        if (s !== b.score[t]) problems.push(`${rt.tier.name}: ${b.id} score ${b.score[t]} but should be ${s}`);
      }
    }
    if (members !== rt.all.length) problems.push(`${rt.tier.name}: ${rt.all.length} listed, ${members} members`);
    if (unlocated !== rt.unlocated.length) problems.push(`${rt.tier.name}: ${rt.unlocated.length} unlocated listed, ${unlocated} members`);
  }
  return problems;
}
