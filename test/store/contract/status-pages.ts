/** Contract scenarios of StatusPagesStore: pages, maintenance windows, double opt-in subscribers, the notice ledger. */
import { describe, expect, it } from 'vitest';
import type { MaintenanceSpec, StatusPageSpec } from '../../../src/store/status-pages.js';
import type { ContractContext } from './index.js';
import { result, seedLeasedJobs } from './fixtures.js';

export const page = (over: Partial<StatusPageSpec> = {}): StatusPageSpec => ({
  slug: 'acme',
  title: 'Acme status',
  description: 'Public services',
  groups: [{ name: 'API', monitorIds: ['m1', 'm2'] }],
  showTargets: false,
  ...over,
});

export const windowSpec = (over: Partial<MaintenanceSpec> = {}): MaintenanceSpec => ({
  title: 'Database upgrade',
  description: '',
  schedule: { kind: 'weekly', weekdays: [0], start: '02:00', durationMs: 3_600_000, timezone: 'Europe/Amsterdam' },
  targets: { monitorIds: ['m1'], groups: [], statusPages: [] },
  ...over,
});

export function statusPageScenarios(ctx: ContractContext): void {
  describe('status pages', () => {
    it('upserts, lists, reads back and deletes pages; replacing keeps created_at', async () => {
      const s = ctx.stores().statusPages;
      expect(await s.getPage('acme')).toBeNull();
      const a = await s.upsertPage(page(), 1000);
      expect(a).toMatchObject({ ...page(), createdAt: 1000, updatedAt: 1000 });
      await s.upsertPage(page({ slug: 'beta', showTargets: true }), 1500);
      const b = await s.upsertPage(page({ title: 'Acme', groups: [] }), 2000);
      expect(b).toMatchObject({ title: 'Acme', groups: [], createdAt: 1000, updatedAt: 2000 });
      expect((await s.listPages()).map((p) => [p.slug, p.showTargets])).toEqual([['acme', false], ['beta', true]]);
      expect(await s.deletePage('acme')).toBe(true);
      expect(await s.deletePage('acme')).toBe(false);
      expect(await s.getPage('acme')).toBeNull();
    });

    it('stores maintenance windows with their schedule and targets', async () => {
      const s = ctx.stores().statusPages;
      const w = await s.createWindow(windowSpec(), { id: 'w1', now: 10 });
      expect(w).toMatchObject({ id: 'w1', ...windowSpec(), createdAt: 10 });
      const once = windowSpec({ schedule: { kind: 'once', startsAt: 100, endsAt: 200 }, targets: { monitorIds: [], groups: ['API'], statusPages: ['acme'] } });
      expect(await s.updateWindow('w1', once, 20)).toMatchObject({ ...once, createdAt: 10, updatedAt: 20 });
      expect(await s.updateWindow('nope', once, 20)).toBeNull();
      await s.createWindow(windowSpec(), { id: 'w0', now: 30 });
      expect((await s.listWindows()).map((x) => x.id)).toEqual(['w0', 'w1']);
      expect(await s.deleteWindow('w1')).toBe(true);
      expect(await s.getWindow('w1')).toBeNull();
    });

    it('subscribers: pending until confirmed, one per address (any case), removed by token, gone with the page', async () => {
      const s = ctx.stores().statusPages;
      expect(await s.addSubscriber({ id: 's0', slug: 'acme', email: 'a@example.org', token: 't0' }, 1)).toBeNull();
      await s.upsertPage(page(), 1);
      const a = await s.addSubscriber({ id: 's1', slug: 'acme', email: 'Ann@Example.org', token: 't1' }, 2);
      expect(a).toMatchObject({ id: 's1', email: 'Ann@Example.org', confirmedAt: null });
      const again = await s.addSubscriber({ id: 's2', slug: 'acme', email: 'ann@example.org', token: 't2' }, 3);
      expect(again).toMatchObject({ id: 's1', token: 't1' });
      expect(await s.listSubscribers('acme', { confirmedOnly: true })).toEqual([]);
      expect(await s.confirmSubscriber('wrong', 4)).toBeNull();
      expect(await s.confirmSubscriber('t1', 4)).toMatchObject({ confirmedAt: 4 });
      expect(await s.confirmSubscriber('t1', 9)).toMatchObject({ confirmedAt: 4 });
      expect((await s.listSubscribers('acme', { confirmedOnly: true })).map((x) => x.id)).toEqual(['s1']);
      await s.addSubscriber({ id: 's3', slug: 'acme', email: 'bob@example.org', token: 't3' }, 5);
      expect((await s.listSubscribers('acme', { confirmedOnly: false })).map((x) => x.id)).toEqual(['s1', 's3']);
      expect(await s.removeSubscriber('t3')).toBe(true);
      expect(await s.removeSubscriber('t3')).toBe(false);
      await s.deletePage('acme');
      await s.upsertPage(page(), 6);
      expect(await s.listSubscribers('acme', { confirmedOnly: false })).toEqual([]);
    });

    it('a maintenance notice is claimed once, even by concurrent callers', async () => {
      const s = ctx.stores().statusPages;
      const claims = await Promise.all(Array.from({ length: 8 }, () => s.claimNotice('w1', 1000, 'start', 5)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await s.claimNotice('w1', 1000, 'end', 6)).toBe(true);
      expect(await s.claimNotice('w1', 2000, 'start', 6)).toBe(true);
      expect(await s.claimNotice('w1', 1000, 'start', 7)).toBe(false);
    });

    it('concurrent sign-ups of one address make one subscriber', async () => {
      const s = ctx.stores().statusPages;
      await s.upsertPage(page(), 1);
      const out = await Promise.all(
        Array.from({ length: 6 }, (_, i) => s.addSubscriber({ id: `s${i}`, slug: 'acme', email: 'same@example.org', token: `tok${i}` }, 2)),
      );
      expect(new Set(out.map((x) => x!.id)).size).toBe(1);
      expect(await s.listSubscribers('acme', { confirmedOnly: false })).toHaveLength(1);
    });

    it('the notice ledger: claims older than the cutoff are deleted, newer ones stay', async () => {
      const s = ctx.stores().statusPages;
      expect(await s.claimNotice('w@acme', 1000, 'start', 10_000)).toBe(true);
      expect(await s.claimNotice('w@acme', 1000, 'end', 20_000)).toBe(true);
      expect(await s.deleteNoticesBefore(15_000)).toBe(1);
      expect(await s.claimNotice('w@acme', 1000, 'end', 30_000)).toBe(false); // still claimed
      expect(await s.claimNotice('w@acme', 1000, 'start', 30_000)).toBe(true); // its claim was deleted
      expect(await s.deleteNoticesBefore(0)).toBe(0);
    });

    it('queryRollupCounts sums regions per bucket for many monitors in one call', async () => {
      const m = ctx.stores().monitoring;
      const D = 86_400_000;
      const t0 = 100 * D;
      for (const [id, region, ups] of [['a', 'eu', [true, false]], ['a', 'us', [true, true]], ['b', 'eu', [false, false]]] as const) {
        const runs = ups.map((_, i) => t0 + i * D + 1000);
        const ids = await seedLeasedJobs(m, { monitorId: id, region, runs, now: runs[runs.length - 1]!, workerId: `w-${id}-${region}` });
        await m.ingestResults(ids.map((runId, i) => ({ workerId: `w-${id}-${region}`, result: result(runId, runs[i]!, { status: ups[i] ? 'up' : 'down' }) })), t0 + 3 * D);
      }
      while ((await m.rollupPending(1000)) > 0);
      const rows = await m.queryRollupCounts({ monitorIds: ['b', 'a', 'none'], resolution: '1d', from: t0, to: t0 + 2 * D });
      expect(rows).toEqual([
        { monitor_id: 'a', bucket_start: t0, count: 2, up_count: 2 },
        { monitor_id: 'a', bucket_start: t0 + D, count: 2, up_count: 1 },
        { monitor_id: 'b', bucket_start: t0, count: 1, up_count: 0 },
        { monitor_id: 'b', bucket_start: t0 + D, count: 1, up_count: 0 },
      ]);
      expect(await m.queryRollupCounts({ monitorIds: ['a'], resolution: '1d', from: t0 + D, to: t0 + 2 * D })).toHaveLength(1);
      expect(await m.queryRollupCounts({ monitorIds: [], resolution: '1d', from: 0, to: t0 * 2 })).toEqual([]);
      // The status page's packed read gives the same sums (regions added up), one map per monitor found.
      const sp = ctx.stores().statusPages;
      const packed = await sp.rollupCounts(['b', 'a', 'none'], '1d', t0, t0 + 2 * D);
      expect([...packed.keys()].sort()).toEqual(['a', 'b']);
      expect(Object.fromEntries(packed.get('a')!)).toEqual({ [t0]: { count: 2, up: 2 }, [t0 + D]: { count: 2, up: 1 } });
      expect(Object.fromEntries(packed.get('b')!)).toEqual({ [t0]: { count: 1, up: 0 }, [t0 + D]: { count: 1, up: 0 } });
      expect((await sp.rollupCounts(['a'], '1h', t0 + D, t0 + 2 * D)).get('a')!.size).toBe(1);
      expect(await sp.rollupCounts([], '1d', 0, t0 * 2)).toEqual(new Map());
      // The page's monitors with their latest status (across regions) in one read.
      const pm = await sp.pageMonitors(['a', 'b', 'none']);
      // ('a' has two results at its latest time, one per region: either is its latest.)
      expect(pm.sort((x, y) => x.id.localeCompare(y.id)).map((r) => [r.id, r.id === 'a' ? ['up', 'down'].includes(r.lastStatus!) : r.lastStatus, r.deleted])).toEqual([['a', true, false], ['b', 'down', false]]);
      expect(await sp.pageMonitors([])).toEqual([]);
      // The same counts summed per monitor over the range (a page of monitors' uptime in one query).
      expect(await m.queryUptimeTotals({ monitorIds: ['b', 'a', 'none'], resolution: '1d', from: t0, to: t0 + 2 * D })).toEqual([
        { monitor_id: 'a', count: 4, up_count: 3 },
        { monitor_id: 'b', count: 2, up_count: 0 },
      ]);
      expect(await m.queryUptimeTotals({ monitorIds: ['a', 'b'], resolution: '1d', from: t0 + D, to: t0 + 2 * D })).toEqual([
        { monitor_id: 'a', count: 2, up_count: 1 },
        { monitor_id: 'b', count: 1, up_count: 0 },
      ]);
      expect(await m.queryUptimeTotals({ monitorIds: [], resolution: '1d', from: 0, to: t0 * 2 })).toEqual([]);
      await expect(m.queryUptimeTotals({ monitorIds: ['a'], resolution: '5m' as '1d', from: 0, to: 1 })).rejects.toThrow(/resolution/);
    });
  });
}
