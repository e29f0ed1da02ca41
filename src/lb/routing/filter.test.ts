import { describe, expect, it } from 'vitest';
import type { Tier } from '../../config/tiers.js';
import { gpu, registration, stats, testEngine } from '../../../test/support/synthetic.js';
import type { StatsOptions } from '../../../test/support/synthetic.js';
import type { EngineOptions, FilterReason, RouteRequest } from './types.js';

const T = (name: string, vcpu: number, memory_gb: number, storage_gb: number, g = 0, gpu_memory_gb = 0): Tier => ({
  name,
  vcpu,
  memory_gb,
  storage_gb,
  gpu: g,
  gpu_memory_gb,
});

function setup(strategy: 'indexed' | 'scan', opts: Partial<EngineOptions> = {}) {
  const { clock, engine } = testEngine({ strategy, ...opts });
  const add = (id: string, s: StatsOptions | null = {}): void => {
    engine.register(registration(id));
    if (s !== null) engine.reportStats(id, stats(s));
  };
  /** The reason the explain row gives for `id`, or 'ok'. */
  const why = (id: string, req: RouteRequest = {}): FilterReason | 'ok' => {
    const row = engine.explain(req).rows.find((r) => r.clientId === id);
    if (row === undefined) throw new Error(`no row for ${id}`);
    return row.eligible ? 'ok' : row.reason!;
  };
  /** route() agrees with explain: ok ⇒ picks id, else no_capacity with that reason. */
  const routeReason = (id: string, req: RouteRequest = {}): FilterReason | 'ok' => {
    const d = engine.route(req);
    if (d.ok) {
      expect(d.clientId).toBe(id);
      engine.release(d.reservationId);
      return 'ok';
    }
    if (d.code !== 'no_capacity') throw new Error(d.code);
    const reasons = Object.keys(d.reasons) as FilterReason[];
    expect(reasons).toHaveLength(1);
    return reasons[0]!;
  };
  const both = (id: string, req: RouteRequest = {}): FilterReason | 'ok' => {
    const a = why(id, req);
    expect(routeReason(id, req)).toBe(a);
    return a;
  };
  return { clock, engine, add, why, both };
}

describe.each(['indexed', 'scan'] as const)('filter rules (%s)', (strategy) => {
  it('rejects a backend without stats (no_stats)', () => {
    const { add, both } = setup(strategy);
    add('a', null);
    expect(both('a')).toBe('no_stats');
  });

  it('rejects stale backends: last seen more than stale_minutes ago', () => {
    const { clock, add, both, engine } = setup(strategy);
    add('a');
    clock.advance(5 * 60_000);
    expect(both('a')).toBe('ok'); // exactly stale_minutes: not yet stale
    clock.advance(1);
    expect(both('a')).toBe('stale');
    expect(engine.counts()).toMatchObject({ total: 1, active: 0, stale: 1 });
    // A new report brings it back.
    engine.reportStats('a', stats());
    expect(both('a')).toBe('ok');
  });

  it('excludes unhealthy backends and keeps unknown/healthy ones', () => {
    const { add, both, engine } = setup(strategy);
    add('a');
    expect(both('a')).toBe('ok'); // unknown health is eligible
    engine.setHealth('a', 'healthy');
    expect(both('a')).toBe('ok');
    engine.setHealth('a', 'unhealthy');
    expect(both('a')).toBe('unhealthy');
    engine.setHealth('a', 'healthy');
    expect(both('a')).toBe('ok');
  });

  it('ignores health when health checks are disabled', () => {
    const { add, both, engine } = setup(strategy, { healthCheckEnabled: false });
    add('a');
    engine.setHealth('a', 'unhealthy');
    expect(both('a')).toBe('ok');
  });

  it('counts cores strictly below 80 % (cpu)', () => {
    const { add, both } = setup(strategy);
    add('a', { cpu: [79.9, 80, 95, 100] }); // one available core
    expect(both('a', { tier: 'small' })).toBe('ok');
    expect(both('a', { tier: 'medium' })).toBe('cpu');
  });

  it('subtracts pending vCPU from available cores', () => {
    const { add, why, engine } = setup(strategy);
    add('a', { cpu: [10, 10, 10, 90] }); // 3 available
    const r = engine.route({ tier: 'medium' }); // reserves 2
    expect(r.ok).toBe(true);
    expect(why('a', { tier: 'small' })).toBe('ok'); // 3 − 2 = 1 ≥ 1
    expect(why('a', { tier: 'medium' })).toBe('cpu'); // 1 < 2
    expect(engine.route({ tier: 'medium' }).ok).toBe(false);
  });

  it('rejects a memory total of 0 and insufficient memory after pending', () => {
    const { add, both, engine } = setup(strategy);
    add('zero', { memTotal: 0, memUsed: 0, memAvail: 0 });
    expect(both('zero', { tier: 'small' })).toBe('memory');
    expect(engine.explain({}).rows[0]!.detail).toMatch(/memory total is 0/);

    const s = setup(strategy);
    s.add('a', { memTotal: 16, memUsed: 10, memAvail: 6 });
    expect(s.both('a', { tier: 'medium' })).toBe('ok'); // 6 ≥ 4
    const r = s.engine.route({ tier: 'medium' });
    expect(r.ok).toBe(true);
    expect(s.why('a', { tier: 'medium' })).toBe('memory'); // 6 − 4 = 2 < 4
    expect(s.why('a', { tier: 'small' })).toBe('ok'); // 2 ≥ 1
  });

  it('requires disk after pending (disk)', () => {
    const { add, both, engine, why } = setup(strategy);
    add('a', { diskAvail: 25 });
    expect(both('a', { tier: 'medium' })).toBe('ok'); // 25 ≥ 20
    expect(both('a', { tier: 'large' })).toBe('disk'); // 25 < 30
    expect(engine.route({ tier: 'medium' }).ok).toBe(true);
    expect(why('a', { tier: 'small' })).toBe('ok'); // 25 − 20 = 5 ≥ 5
    expect(why('a', { tier: 'medium' })).toBe('disk');
  });

  it('checks GPU VRAM per device, not summed', () => {
    const tiers = [T('g16', 1, 1, 1, 1, 16), T('g2x16', 1, 1, 1, 2, 16)];
    const { add, both } = setup(strategy, { tiers });
    // Two devices with 10 GB free each: 20 GB in total, but no single device has 16 GB.
    add('a', { gpus: [gpu(0, 10, 14, 24), gpu(1, 10, 14, 24)] });
    expect(both('a', { tier: 'g16' })).toBe('gpu');
    const s = setup(strategy, { tiers });
    s.add('b', { gpus: [gpu(0, 10, 4, 24), gpu(1, 10, 14, 24)] }); // one device with 20 GB free
    expect(s.both('b', { tier: 'g16' })).toBe('ok');
    expect(s.both('b', { tier: 'g2x16' })).toBe('gpu');
  });

  it('treats a device with unknown VRAM as unqualified unless the tier needs none', () => {
    const tiers = [T('g16', 1, 1, 1, 1, 16), T('g0', 1, 1, 1, 1, 0)];
    const { add, both } = setup(strategy, { tiers });
    add('a', { gpus: [gpu(0, 10, null, null)] });
    expect(both('a', { tier: 'g16' })).toBe('gpu');
    expect(both('a', { tier: 'g0' })).toBe('ok');
  });

  it('reserves specific GPU devices: a reserved device is unavailable to the next request', () => {
    const tiers = [T('g16', 1, 1, 1, 1, 16)];
    const { add, engine, why } = setup(strategy, { tiers });
    add('a', { gpus: [gpu(0, 90, 4, 24), gpu(1, 10, 4, 24), gpu(2, 0, 20, 24)] });
    const first = engine.route({ tier: 'g16' });
    const second = engine.route({ tier: 'g16' });
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(first.gpuDeviceIds).toEqual([1]); // least utilised qualifying device (device 2 has 4 GB free)
    expect(second.gpuDeviceIds).toEqual([0]);
    expect(why('a', { tier: 'g16' })).toBe('gpu');
    expect(engine.release(first.reservationId)).toBe(true);
    const third = engine.route({ tier: 'g16' });
    expect(third.ok && third.gpuDeviceIds).toEqual([1]);
  });

  it('does not check GPUs for non-GPU tiers', () => {
    const { add, both } = setup(strategy, { tiers: [T('cpu', 1, 1, 1), T('gpu', 1, 1, 1, 1, 0)] });
    add('a', { gpus: [] });
    expect(both('a', { tier: 'cpu' })).toBe('ok');
    expect(both('a', { tier: 'gpu' })).toBe('gpu');
  });

  it('passes a requirement of 0 even when other reservations exceed capacity', () => {
    const tiers = [T('big', 2, 8, 10), T('free', 0, 0, 0)];
    const { add, engine, why } = setup(strategy, { tiers });
    add('a', { cpu: [10, 10], memTotal: 16, memUsed: 8, memAvail: 8 });
    expect(engine.route({ tier: 'big' }).ok).toBe(true);
    // Capacity shrinks below what is reserved.
    engine.reportStats('a', stats({ cpu: [10, 90], memTotal: 16, memUsed: 12, memAvail: 4 }));
    expect(why('a', { tier: 'big' })).toBe('cpu');
    expect(why('a', { tier: 'free' })).toBe('ok');
  });

  it('honours exclude', () => {
    const { add, engine } = setup(strategy);
    add('a');
    add('b', { memUsed: 20, memAvail: 12 });
    const d = engine.route({ exclude: new Set(['a']) });
    expect(d.ok && d.clientId).toBe('b');
    const none = engine.route({ exclude: new Set(['a', 'b']) });
    expect(none).toMatchObject({ ok: false, code: 'no_capacity', reasons: { excluded: 2 } });
  });

  it('never releases reservations on stats arrival', () => {
    const { add, engine, why } = setup(strategy);
    add('a', { cpu: [10, 10, 90, 90] });
    expect(engine.route({ tier: 'medium' }).ok).toBe(true);
    engine.reportStats('a', stats({ cpu: [10, 10, 90, 90] }));
    expect(why('a', { tier: 'medium' })).toBe('cpu');
    expect(engine.counts().reservations).toBe(1);
  });
});
