/** Alerts store scenarios: compare-and-set transitions, the outbox claims, channels, rules and incidents. */
import { describe, expect, it } from 'vitest';
import type { TransitionInput } from '../../../src/store/alerts.js';
import type { ContractContext } from './index.js';

const T = 1_800_000_000_000;
const down = (over: Partial<TransitionInput> = {}): TransitionInput => ({
  monitorId: 'mon_a',
  monitorName: 'a',
  kind: 'down',
  expected: 'up',
  next: 'down',
  at: T,
  firstFailureAt: T - 60_000,
  reason: 'failing',
  channelIds: ['chn_1', 'chn_2'],
  details: {},
  ...over,
});

export function alertsScenarios(ctx: ContractContext): void {
  describe('alerts', () => {
    it('a transition applies once when several callers race on the same expected status', async () => {
      const s = ctx.stores().alerts;
      const outs = await Promise.all(Array.from({ length: 6 }, () => s.applyTransition(down())));
      const applied = outs.filter((o) => o !== null);
      expect(applied).toHaveLength(1);
      expect(applied[0]!.outboxIds).toHaveLength(2);
      expect(await s.listIncidents({})).toHaveLength(1);
      expect((await s.loadStatuses()).get('mon_a')).toEqual({ status: 'down', incidentId: applied[0]!.incidentId });
      // A stale expectation does nothing.
      expect(await s.applyTransition(down())).toBeNull();
      const resolved = await s.applyTransition(down({ kind: 'resolved', expected: 'down', next: 'up', at: T + 1000 }));
      expect(resolved!.incidentId).toBe(applied[0]!.incidentId);
      expect((await s.getIncident(resolved!.incidentId))!.resolvedAt).toBe(T + 1000);
      expect((await s.loadStatuses()).has('mon_a')).toBe(false);
      expect(await s.listOutbox({ incidentId: resolved!.incidentId })).toHaveLength(4);
    });

    it('reminders are keyed by number: the same reminder twice writes one row per channel', async () => {
      const s = ctx.stores().alerts;
      await s.applyTransition(down());
      const r1 = await s.applyTransition(down({ kind: 'reminder', expected: 'down', reminder: 1 }));
      const again = await s.applyTransition(down({ kind: 'reminder', expected: 'down', reminder: 1 }));
      expect(r1!.outboxIds).toHaveLength(2);
      expect(again!.outboxIds).toHaveLength(0);
    });

    it('two senders claiming at once get disjoint rows; an expired claim is taken over', async () => {
      const s = ctx.stores().alerts;
      for (let i = 0; i < 10; i++) await s.applyTransition(down({ monitorId: `mon_${i}`, monitorName: `m${i}` }));
      const [a, b] = await Promise.all([s.claimDue('A', T, 15, 10_000), s.claimDue('B', T, 15, 10_000)]);
      const ids = [...a, ...b].map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(20);
      expect(await s.claimDue('C', T + 9_999, 50, 10_000)).toHaveLength(0);
      const taken = await s.claimDue('C', T + 10_000, 50, 10_000);
      expect(taken).toHaveLength(20);
      await s.markDelivered(taken[0]!.id, T + 10_001, 'HTTP 200');
      await s.markDelivered(taken[0]!.id, T + 10_002, 'HTTP 200'); // a second mark changes nothing
      const row = (await s.listOutbox({ status: 'delivered' }))[0]!;
      expect(row.attempts).toBe(1);
      expect(row.deliveredAt).toBe(T + 10_001);
      await s.markFailed(taken[1]!.id, T + 10_001, 'HTTP 503', T + 20_000, false);
      expect((await s.claimDue('D', T + 30_000, 50, 10_000)).map((r) => r.id)).toContain(taken[1]!.id);
      await s.markFailed(taken[2]!.id, T + 30_001, 'HTTP 404', T + 40_000, true);
      expect((await s.listOutbox({ status: 'dead' })).map((r) => r.id)).toEqual([taken[2]!.id]);
    });

    it('channels: upsert by id, look up by id or name, delete; rules round-trip', async () => {
      const s = ctx.stores().alerts;
      const c = await s.upsertChannel({ id: 'chn_x', name: 'ops', type: 'webhook', settings: { url: 'https://e.example/h', secret: 'k' }, isDefault: true, enabled: true, source: 'api' }, T);
      expect(c.createdAt).toBe(T);
      await s.upsertChannel({ ...c, name: 'ops2', isDefault: false }, T + 5);
      expect((await s.getChannel('ops2'))!.id).toBe('chn_x');
      expect((await s.getChannel('chn_x'))!.settings).toEqual({ url: 'https://e.example/h', secret: 'k' });
      expect(await s.getChannel('ops')).toBeNull();
      expect(await s.deleteChannel('chn_x')).toBe(true);
      expect(await s.listChannels()).toEqual([]);
      await s.putRule('mon_a', { failure_threshold: 5 }, T);
      expect((await s.listRules()).get('mon_a')).toEqual({ failure_threshold: 5 });
      await s.putRule('mon_a', null, T);
      expect((await s.listRules()).size).toBe(0);
    });

    it('incident queries: open, by monitor, since, by status page, limit', async () => {
      const s = ctx.stores().alerts;
      const a = await s.applyTransition(down());
      await s.applyTransition(down({ monitorId: 'mon_b', monitorName: 'b', at: T + 10 }));
      await s.applyTransition(down({ kind: 'resolved', expected: 'down', next: 'up', at: T + 20 }));
      const m = await s.createManualIncident({ title: 'm', status: 'identified', impact: 'major', monitorIds: ['mon_b'], statusPageSlug: 'other', message: 'x', at: T + 30 });
      expect((await s.listIncidents({ open: true })).map((i) => i.monitorIds[0])).toEqual(['mon_b', 'mon_b']);
      expect((await s.listIncidents({ monitorIds: ['mon_a'] })).map((i) => i.id)).toEqual([a!.incidentId]);
      expect((await s.listIncidents({ since: T + 25 })).length).toBe(2);
      expect((await s.listIncidents({ statusPageSlug: 'public' })).map((i) => i.id)).not.toContain(m.id);
      expect(await s.listIncidents({ limit: 1 })).toHaveLength(1);
      expect(await s.updateIncident('inc_missing', { status: 'resolved', message: '', at: T })).toBeNull();
      expect(await s.acknowledge('inc_missing', 'x', T)).toBeNull();
    });

    it('region runs: counted under the row lock, duplicates and late runs not counted, every region returned with the status', async () => {
      const s = ctx.stores().alerts;
      const step = (status: 'up' | 'down') => (p: { fails: number; oks: number; failing: boolean; firstFailureAt: number | null }) =>
        status === 'down' ? { fails: p.fails + 1, oks: 0, failing: p.fails + 1 >= 2, firstFailureAt: p.firstFailureAt ?? T } : { fails: 0, oks: p.oks + 1, failing: false, firstFailureAt: null };
      // Concurrent runs of one region: each counted once (no lost update).
      const raced = await Promise.all([1, 2, 3, 4].map((i) => s.recordRegionRuns([{ monitorId: 'mon_r', region: 'eu', at: T + i, step: step('down') }]).then((x) => x[0]!)));
      const [eu] = await s.recordRegionRuns([{ monitorId: 'mon_r', region: 'eu', at: T + 4, step: step('down') }]);
      expect(eu!.counted).toBe(false);
      expect(eu!.regions['eu']!.fails).toBe(raced.filter((r) => r.counted).length);
      // A batch: runs in order, each answered with the state after it.
      const [us, us2] = await s.recordRegionRuns([
        { monitorId: 'mon_r', region: 'us', at: T + 10, step: step('up') },
        { monitorId: 'mon_r', region: 'us', at: T + 10, step: step('up') },
      ]);
      expect(us2).toMatchObject({ counted: false, regions: { us: { oks: 1 } } });
      expect(us!.counted).toBe(true);
      expect(us!.status).toBe('up');
      expect(Object.keys(us!.regions).sort()).toEqual(['eu', 'us']);
      expect(us!.regions['eu']).toMatchObject({ failing: true, firstFailureAt: T });
      expect(us!.regions['us']).toEqual({ fails: 0, oks: 1, failing: false, firstFailureAt: null });
      // The steady fast path: taken only when the stored row already passes (fails 0, not failing, oks ≥ threshold).
      const steady = { steadyUp: { successThreshold: 1 } };
      expect((await s.recordRegionRuns([{ monitorId: 'mon_r', region: 'us', at: T + 11, step: step('up'), ...steady }]))[0]).toEqual({ regions: {}, status: 'up', counted: true, steady: true });
      const slow = (await s.recordRegionRuns([{ monitorId: 'mon_r', region: 'eu', at: T + 12, step: step('up'), ...steady }]))[0]!;
      expect(slow).toMatchObject({ steady: false, counted: true, regions: { eu: { fails: 0, failing: false }, us: { oks: 2 } } });
      await s.applyTransition(down({ monitorId: 'mon_r' }));
      expect((await s.recordRegionRuns([{ monitorId: 'mon_r', region: 'us', at: T + 13, step: step('up') }]))[0]!.status).toBe('down');
    });

    it('retention: finished notifications and long-resolved incidents go; pending rows, open incidents and their rows stay', async () => {
      const s = ctx.stores().alerts;
      const D = 86_400_000;
      // An incident resolved 40 days ago (both rows delivered), one open (one row delivered, one pending).
      const old = (await s.applyTransition(down({ monitorId: 'mon_old', at: T - 50 * D, firstFailureAt: null })))!;
      for (const r of await s.claimDue('x', T - 50 * D, 10, 1000)) await s.markDelivered(r.id, T - 50 * D, 'HTTP 200');
      const res = (await s.applyTransition(down({ monitorId: 'mon_old', kind: 'resolved', expected: 'down', next: 'up', at: T - 40 * D })))!;
      for (const r of await s.claimDue('x', T - 40 * D, 10, 1000)) await s.markDelivered(r.id, T - 40 * D, 'HTTP 200');
      expect(res.incidentId).toBe(old.incidentId);
      const open = (await s.applyTransition(down({ monitorId: 'mon_open', at: T - 20 * D, firstFailureAt: null })))!;
      const [first] = await s.claimDue('x', T - 20 * D, 1, 1000);
      await s.markDelivered(first!.id, T - 20 * D, 'HTTP 200');
      expect(await s.listOutbox({})).toHaveLength(6);

      // Outbox rows finished more than 30 days ago: the old incident's four.
      expect(await s.deleteExpired({ outboxBefore: T - 30 * D, incidentsBefore: null })).toEqual({ outbox: 4, incidents: 0 });
      expect((await s.listOutbox({})).map((r) => [r.incidentId, r.status]).sort()).toEqual([[open.incidentId, 'delivered'], [open.incidentId, 'pending']]);
      expect(await s.getIncident(old.incidentId)).not.toBeNull();
      // Incidents resolved more than 30 days ago: the old one, with its timeline; the open one stays.
      expect(await s.deleteExpired({ outboxBefore: null, incidentsBefore: T - 30 * D })).toEqual({ outbox: 0, incidents: 1 });
      expect(await s.getIncident(old.incidentId)).toBeNull();
      expect((await s.listIncidents({})).map((i) => i.id)).toEqual([open.incidentId]);
      // Nothing of the open incident goes, however short the periods; null keeps everything.
      expect(await s.deleteExpired({ outboxBefore: T, incidentsBefore: T })).toEqual({ outbox: 1, incidents: 0 });
      expect((await s.listOutbox({})).map((r) => r.status)).toEqual(['pending']);
      expect(await s.deleteExpired({ outboxBefore: null, incidentsBefore: null })).toEqual({ outbox: 0, incidents: 0 });
    });
  });
}
