import { describe, expect, it } from 'vitest';
import type { Tier } from '../../config/tiers.js';
import { haversineKm } from './geo.js';
import { cpuTermFromPrefix, gpuTerm, meanGpuUtilisation, meanOfLeastLoaded } from './score.js';
import { gpu, registration, stats, testEngine } from '../../../test/support/synthetic.js';
import type { RegOptions, StatsOptions } from '../../../test/support/synthetic.js';
import type { EngineOptions, RouteRequest, ScoreTerms } from './types.js';

const T = (name: string, vcpu: number, g = 0): Tier => ({ name, vcpu, memory_gb: 1, storage_gb: 1, gpu: g, gpu_memory_gb: 0 });
const TIERS = [T('one', 1), T('two', 2), T('four', 4), T('zero', 0), T('gpu', 1, 1)];

function setup(strategy: 'indexed' | 'scan', opts: Partial<EngineOptions> = {}) {
  const { clock, engine } = testEngine({ tiers: TIERS, stickyAffinity: false, strategy, ...opts });
  const add = (id: string, s: StatsOptions = {}, r: RegOptions = {}): void => {
    engine.register(registration(id, r));
    engine.reportStats(id, stats(s));
  };
  const terms = (id: string, req: RouteRequest = {}): ScoreTerms => {
    const row = engine.explain(req).rows.find((x) => x.clientId === id);
    if (row?.terms === undefined) throw new Error(`${id} is not eligible: ${row?.reason}`);
    return row.terms;
  };
  return { clock, engine, add, terms };
}

describe.each(['indexed', 'scan'] as const)('score terms (%s)', (strategy) => {
  it('has no distance term when either location is unknown', () => {
    const { add, terms, engine } = setup(strategy);
    add('nowhere', {}, { lat: null, lon: null });
    add('paris', {}, { lat: 48.8566, lon: 2.3522 });
    expect(terms('nowhere', { lat: 51.5, lon: -0.12 }).distanceKm).toBeNull();
    expect(terms('paris', {}).distanceKm).toBeNull();
    expect(terms('paris', { lat: null, lon: -0.12 }).distanceKm).toBeNull();
    const t = terms('paris', { lat: 51.5074, lon: -0.1278 });
    expect(t.distanceKm).toBe(haversineKm(51.5074, -0.1278, 48.8566, 2.3522));
    // With a user location, the decision's distance matches.
    const d = engine.route({ lat: 51.5074, lon: -0.1278, exclude: new Set(['nowhere']) });
    expect(d.ok && d.distanceKm).toBe(t.distanceKm);
  });

  it('treats latitude/longitude 0 as a real location', () => {
    const { add, terms } = setup(strategy);
    add('gulf', {}, { lat: 0, lon: 0 });
    const t = terms('gulf', { lat: 0, lon: 1 });
    expect(t.distanceKm).toBeCloseTo(111.19, 1);
  });

  it('averages the N least-loaded cores (all of them when N ≥ core count; 0 for N = 0)', () => {
    const { add, terms } = setup(strategy);
    add('a', { cpu: [90, 10, 50, 30, 70, 20, 60, 40] });
    expect(terms('a', { tier: 'one' }).cpu).toBe(10);
    expect(terms('a', { tier: 'two' }).cpu).toBe(15);
    expect(terms('a', { tier: 'four' }).cpu).toBe(25);
    expect(terms('a', { tier: 'zero' }).cpu).toBe(0);
    add('quad', { cpu: [70, 10, 50, 30] });
    expect(terms('quad', { tier: 'four' }).cpu).toBe(40); // N = core count: all cores
  });

  it('uses memory used % of the total', () => {
    const { add, terms } = setup(strategy);
    add('a', { memTotal: 64, memUsed: 16, memAvail: 40 });
    expect(terms('a').memory).toBe(25);
  });

  it('adds 1.5 × mean GPU utilisation for GPU tiers only, skipping unknown values', () => {
    const { add, terms } = setup(strategy);
    add('a', { gpus: [gpu(0, 20, 1, 80), gpu(1, null, 1, 80), gpu(2, 40, 1, 80)] });
    expect(terms('a', { tier: 'gpu' }).gpu).toBe(45); // 1.5 × mean(20, 40)
    expect(terms('a', { tier: 'one' }).gpu).toBe(0);
    add('b', { gpus: [gpu(0, null, 1, 80)] });
    expect(terms('b', { tier: 'gpu' }).gpu).toBe(0);
  });

  it('adds the latency EWMA (α = 0.3, first sample as is)', () => {
    const { add, terms, engine } = setup(strategy);
    add('a');
    expect(terms('a').latencyMs).toBe(0);
    engine.recordLatency('a', 10);
    expect(terms('a').latencyMs).toBe(10);
    engine.recordLatency('a', 20);
    expect(terms('a').latencyMs).toBeCloseTo(13, 10);
    engine.recordLatency('a', Number.NaN); // ignored
    expect(terms('a').latencyMs).toBeCloseTo(13, 10);
    engine.setHealth('a', 'healthy', 5);
    expect(terms('a').latencyMs).toBe(5);
    engine.setHealth('a', 'healthy', null);
    expect(terms('a').latencyMs).toBe(0);
    expect(engine.backend('a')?.latencyMs).toBeNull();
  });

  it('drops the latency term when health checks are disabled', () => {
    const { add, terms, engine } = setup(strategy, { healthCheckEnabled: false });
    add('a');
    engine.recordLatency('a', 50);
    expect(terms('a').latencyMs).toBe(0);
  });

  it('totals the terms; pending reservations do not change the score', () => {
    const { add, terms, engine } = setup(strategy);
    add('a', { cpu: [10, 30, 50, 50], memTotal: 10, memUsed: 5, memAvail: 5, gpus: [gpu(0, 50, 1, 80), gpu(1, 50, 1, 80)] }, { lat: 10, lon: 10 });
    engine.recordLatency('a', 7);
    const req = { tier: 'gpu', lat: 11, lon: 10 };
    const before = terms('a', req);
    expect(before.total).toBeCloseTo((before.distanceKm ?? 0) + 10 + 50 + 75 + 7, 9);
    const d = engine.route(req);
    expect(d.ok && d.score).toBe(before.total);
    expect(terms('a', { tier: 'one', lat: 11, lon: 10 }).total).toBeCloseTo((before.distanceKm ?? 0) + 10 + 50 + 7, 9);
    expect(engine.route({ tier: 'one', lat: 11, lon: 10 }).ok).toBe(true);
    expect(engine.counts().reservations).toBe(2);
    expect(terms('a', req).total).toBe(before.total);
  });

  it('picks the lowest score', () => {
    const { add, engine } = setup(strategy);
    add('busy', { cpu: [60, 60] });
    add('idle', { cpu: [5, 60] });
    add('mid', { cpu: [30, 60] });
    const d = engine.route({ tier: 'one' });
    expect(d.ok && d.clientId).toBe('idle');
    // Near beats idle when distance dominates.
    add('near', { cpu: [50, 60] }, { lat: 1, lon: 1 });
    add('far', { cpu: [0, 60] }, { lat: 40, lon: 40 });
    const e = engine.route({ tier: 'one', lat: 1.01, lon: 1.01 });
    expect(e.ok && e.clientId).toBe('idle'); // unknown location: no distance term, score 5 + 25
    const f = engine.route({ tier: 'one', lat: 1.01, lon: 1.01, exclude: new Set(['idle', 'mid', 'busy']) });
    expect(f.ok && f.clientId).toBe('near');
  });
});

describe('score helpers', () => {
  it('averages all values when N exceeds their count, and nothing for N = 0', () => {
    expect(meanOfLeastLoaded([10, 20, 30], 16)).toBe(20);
    expect(meanOfLeastLoaded([10, 20, 30], 0)).toBe(0);
    expect(meanOfLeastLoaded([], 4)).toBe(0);
    const prefix = Float64Array.from([0, 10, 30, 60]);
    expect(cpuTermFromPrefix(prefix, 16)).toBe(20);
    expect(cpuTermFromPrefix(prefix, 2)).toBe(15);
    expect(cpuTermFromPrefix(prefix, 0)).toBe(0);
  });

  it('weights GPU utilisation 1.5 and only for GPU tiers', () => {
    expect(gpuTerm(1, 40)).toBe(60);
    expect(gpuTerm(0, 40)).toBe(0);
    expect(meanGpuUtilisation([])).toBe(0);
  });
});

describe.each(['indexed', 'scan'] as const)('deterministic ties (%s)', (strategy) => {
  it('breaks equal scores by clientId regardless of registration order', () => {
    for (const order of [
      ['b', 'a', 'c'],
      ['c', 'b', 'a'],
      ['a', 'c', 'b'],
    ]) {
      const { add, engine } = setup(strategy);
      for (const id of order) add(id);
      const d = engine.route({ tier: 'one' });
      expect(d.ok && d.clientId).toBe('a');
    }
  });

  it('breaks equal scores by clientId with a user location', () => {
    for (const order of [
      ['y', 'x'],
      ['x', 'y'],
    ]) {
      const { add, engine } = setup(strategy);
      for (const id of order) add(id, {}, { lat: 45, lon: 7 });
      add('unlocated-z', { cpu: [10, 10, 10, 10, 10, 10, 10, 10] });
      const d = engine.route({ tier: 'one', lat: 45, lon: 7 });
      // x and y are at distance 0 with the same score as the unlocated backend: smallest id wins.
      expect(d.ok && d.clientId).toBe('unlocated-z');
      const e = engine.route({ tier: 'one', lat: 45, lon: 7, exclude: new Set(['unlocated-z']) });
      expect(e.ok && e.clientId).toBe('x');
    }
  });
});
