/** Contract scenarios of the dashboard queries: states, 24 h figures, recent failures, slowest, filtered pages. */
import { describe, expect, it } from 'vitest';
import type { MonitoringStore } from '../../../src/store/monitoring.js';
import type { ContractContext } from './index.js';
import { result, seedJobs, spec } from './fixtures.js';

const H = 3_600_000;
/** An hour boundary. */
const T0 = 1_699_920_000_000;

/** Stores one result per point for monitor `id` (created with `over` when missing) in region eu. */
async function results(s: MonitoringStore, id: string, points: Array<{ at: number; ms: number | null }>, over = {}): Promise<void> {
  await seedJobs(s, { monitorId: id, runs: points.map((p) => p.at), now: T0, spec: { regions: ['eu'], ...over } });
  const jobs = await s.leaseJobs({ workerId: 'w', region: 'eu', count: points.length, now: T0 + 10 * H, leadMs: 0, leaseMs: 45_000 });
  const byAt = new Map(points.map((p) => [p.at, p.ms]));
  const out = await s.ingestResults(
    jobs.map((j) => {
      const ms = byAt.get(j.scheduled_at)!;
      return { workerId: 'w', result: result(j.run_id, j.scheduled_at, ms === null ? { status: 'down', total_ms: 2_000, error: 'refused', error_class: 'connect' } : { total_ms: ms }) };
    }),
    T0 + 10 * H,
  );
  expect(out.every((o) => o === 'stored')).toBe(true);
}

export function dashboardScenarios(ctx: ContractContext): void {
  const s = () => ctx.stores().monitoring;
  const d = () => ctx.stores().dashboard;
  const meta = { actor: 'test', now: T0, jitterSeed: 1 };

  describe('dashboard queries', () => {
    it('counts monitors per state from their latest result, leaving out deleted and system-owned monitors', async () => {
      await results(s(), 'a-up', [{ at: T0 + 1_000, ms: null }, { at: T0 + 2_000, ms: 20 }]);
      await results(s(), 'b-down', [{ at: T0 + 1_000, ms: 20 }, { at: T0 + 2_000, ms: null }]);
      await s().createMonitor(spec({ name: 'paused', enabled: false }), { id: 'c-paused', ...meta });
      await s().createMonitor(spec({ name: 'new' }), { id: 'd-pending', ...meta });
      await s().createMonitor(spec({ name: 'gone' }), { id: 'e-deleted', ...meta });
      await s().deleteMonitor('e-deleted', meta);
      await s().createMonitor(spec({ name: 'probe' }), { id: 'f-system', actor: 'system:backend-probe', now: T0, jitterSeed: 1 });
      expect(await d().counts()).toEqual({ total: 4, up: 1, down: 1, paused: 1, pending: 1 });
    });

    it('answers runs and failures of the 1h rollups, recent failures newest first and the slowest by p95', async () => {
      await results(s(), 'fast', [{ at: T0 + 1_000, ms: 10 }, { at: T0 + 2_000, ms: 12 }]);
      await results(s(), 'slow', [{ at: T0 + 1_000, ms: 900 }, { at: T0 + 2_000, ms: null }, { at: T0 + 3_000, ms: null }]);
      while ((await s().rollupPending(1000)) > 0);
      expect(await d().runsSince(T0)).toEqual({ runs: 5, failures: 2 });
      expect(await d().runsSince(T0 + H)).toEqual({ runs: 0, failures: 0 });
      // A bucket folded again (a later result of the same hour) updates the totals in place.
      await results(s(), 'fast', [{ at: T0 + 9_000, ms: null }]);
      while ((await s().rollupPending(1000)) > 0);
      expect(await d().runsSince(T0)).toEqual({ runs: 6, failures: 3 });
      // A deleted monitor's runs no longer count.
      await s().deleteMonitor('fast', { actor: 't', now: T0 });
      expect(await d().runsSince(T0)).toEqual({ runs: 3, failures: 2 });
      const f = await d().recentFailures(T0, 10);
      expect(f.map((x) => [x.monitor_id, x.event_at, x.error_class])).toEqual([
        ['slow', T0 + 3_000, 'connect'],
        ['slow', T0 + 2_000, 'connect'],
      ]);
      expect(await d().recentFailures(T0 + 2_500, 1)).toHaveLength(1);
      const slow = await d().slowest(T0, 1);
      expect(slow.map((x) => x.monitor_id)).toEqual(['slow']);
      expect(slow[0]!.p95_ms).toBeGreaterThan(800);
    });

    it('finds the slowest over several hours: ties by id, worst hour of each monitor, deleted ones left out', async () => {
      // 20 monitors with the same p95 in the first hour (more rows than the first read per hour), two of them
      // worse in the second hour, and a deleted monitor worse than all.
      await results(s(), 'zz-del', [{ at: T0 + 500, ms: 900 }]);
      for (let i = 0; i < 20; i++) await results(s(), `t${String(i).padStart(2, '0')}`, [{ at: T0 + 1_000 + i, ms: 100 }]);
      await results(s(), 't07', [{ at: T0 + H + 1_000, ms: 500 }]);
      await results(s(), 't15', [{ at: T0 + H + 2_000, ms: 300 }]);
      await s().deleteMonitor('zz-del', meta);
      while ((await s().rollupPending(1000)) > 0);
      const ids = async (since: number, limit: number) => (await d().slowest(since, limit)).map((x) => x.monitor_id);
      expect(await ids(T0, 4)).toEqual(['t07', 't15', 't00', 't01']);
      expect(await ids(T0 + H, 4)).toEqual(['t07', 't15']);
      expect(await ids(T0 + 2 * H, 4)).toEqual([]);
      expect(await ids(T0, 0)).toEqual([]);
      expect((await ids(T0, 30)).length).toBe(20);
      const [worst] = await d().slowest(T0, 1);
      expect(worst!.p95_ms).toBeGreaterThan(450);
      expect(worst!.p99_ms).toBeGreaterThanOrEqual(worst!.p95_ms);
    });

    it('pages the filtered monitor list by id and counts the matches', async () => {
      // m04's result first: seeding schedules every due monitor, so it runs before the others exist.
      await results(s(), 'm04', [{ at: T0 + 1_000, ms: null }], { name: 'Shop 4', url: 'https://h4.example/', type: 'http' });
      for (let i = 0; i < 25; i++) {
        if (i === 4) continue;
        const id = `m${String(i).padStart(2, '0')}`;
        await s().createMonitor(
          spec({ name: i % 2 === 0 ? `Shop ${i}` : `API ${i}`, url: `https://h${i}.example/`, type: i % 3 === 0 ? 'tcp' : 'http', regions: [i % 5 === 0 ? 'us-east' : 'eu'], enabled: i !== 7 }),
          { id, ...meta },
        );
      }
      const ids = async (f: Parameters<ReturnType<typeof d>['listMonitors']>[0], after?: string, limit = 100) =>
        (await d().listMonitors(f, { after, limit })).map((r) => r.id);
      const all: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await ids({}, after, 10);
        if (page.length === 0) break;
        all.push(...page);
        after = page[page.length - 1];
      }
      expect(all).toHaveLength(25);
      expect([...all].sort()).toEqual(all);
      expect(await ids({ search: 'shop 1' })).toEqual(['m10', 'm12', 'm14', 'm16', 'm18']);
      expect(await ids({ search: 'H3.EXAMPLE' })).toEqual(['m03']);
      expect(await ids({ search: '100%_' })).toEqual([]);
      expect(await ids({ region: 'us-east' })).toEqual(['m00', 'm05', 'm10', 'm15', 'm20']);
      expect(await ids({ type: 'tcp', region: 'us-east' })).toEqual(['m00', 'm15']);
      expect(await ids({ states: ['paused'] })).toEqual(['m07']);
      expect(await ids({ states: ['down', 'paused'] })).toEqual(['m04', 'm07']);
      expect((await d().listMonitors({ states: ['down'] }, { limit: 5 }))[0]).toEqual({ id: 'm04', state: 'down', last_event_at: T0 + 1_000 });
      expect(await d().countMonitors({ states: ['pending'] })).toBe(23);
      expect(await d().countMonitors({ search: 'api', type: 'http' })).toBe(8);
    });

    it('summarises monitors: their last results newest first and the 24 h uptime', async () => {
      await results(s(), 'x', [{ at: T0 + 1_000, ms: 10 }, { at: T0 + 2_000, ms: null }, { at: T0 + 3_000, ms: 30 }, { at: T0 + 4_000, ms: 40 }]);
      while ((await s().rollupPending(1000)) > 0);
      await results(s(), 'y', [{ at: T0 + 5_000, ms: null }, { at: T0 + 6_000, ms: 60 }]);
      while ((await s().rollupPending(1000)) > 0);
      // One statement for the page: each monitor's own last results, in the order asked.
      const [ySum, sum, ...rest] = await d().summaries(['y', 'x', 'missing'], { bars: 3, since24h: T0 });
      expect(rest).toEqual([]);
      expect(ySum!.monitor_id).toBe('y');
      expect(ySum!.recent.map((r) => [r.status, r.event_at])).toEqual([
        ['up', T0 + 6_000],
        ['down', T0 + 5_000],
      ]);
      expect([ySum!.runs_24h, ySum!.up_24h]).toEqual([2, 1]);
      expect(sum!.monitor_id).toBe('x');
      expect(sum!.state).toBe('up');
      expect(sum!.recent.map((r) => [r.status, r.event_at])).toEqual([
        ['up', T0 + 4_000],
        ['up', T0 + 3_000],
        ['down', T0 + 2_000],
      ]);
      expect([sum!.runs_24h, sum!.up_24h]).toEqual([4, 3]);
      expect(await d().summaries([], { bars: 3, since24h: T0 })).toEqual([]);
    });
  });
}
