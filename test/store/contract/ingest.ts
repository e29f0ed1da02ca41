/** Contract scenarios of result ingest: idempotency, lost leases, reading results back. */
import { describe, expect, it } from 'vitest';
import type { ContractContext } from './index.js';
import { result, seedJobs } from './fixtures.js';

const T0 = 1_700_000_000_000;
const LEASE = 45_000;

export function ingestScenarios(ctx: ContractContext): void {
  const s = () => ctx.stores().monitoring;
  async function leasedJob(monitorId: string, workerId = 'w1', at = T0) {
    await seedJobs(s(), { monitorId, runs: [at], now: at, spec: { regions: ['eu'] } });
    const [j] = await s().leaseJobs({ workerId, region: 'eu', count: 1, now: at, leadMs: 0, leaseMs: LEASE });
    return j!;
  }

  describe('ingest', () => {
    it('is idempotent: the same (run_id, event_at) twice gives one row, and the repeat is a duplicate to acknowledge again', async () => {
      const j = await leasedJob('m');
      const r = result(j.run_id, T0 + 10, { assertions: '[{"ok":true}]', details: '{"tls":null}' });
      expect(await s().ingestResults([{ workerId: 'w1', result: r }], T0 + 20)).toEqual(['stored']);
      expect(await s().ingestResults([{ workerId: 'w1', result: r }, { workerId: 'w1', result: r }], T0 + 30)).toEqual(['duplicate', 'duplicate']);
      expect(await s().getJob(j.run_id)).toMatchObject({ status: 'done', outcome: 'result', finished_at: T0 + 20, lease_expires_at: null });
      const rows = await s().listResults({ monitorId: 'm', limit: 10 });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toEqual({ ...r, monitor_id: 'm', region: 'eu', worker_id: 'w1', ingested_at: T0 + 20 });
    });

    it('refuses a result whose lease that worker no longer holds (not stored), and a result of an unknown run', async () => {
      const j = await leasedJob('m', 'w1');
      await s().reapExpired({ now: T0 + LEASE + 1, maxAttempts: 3, missedBefore: 0 });
      const [again] = await s().leaseJobs({ workerId: 'w2', region: 'eu', count: 1, now: T0 + LEASE + 2, leadMs: 0, leaseMs: LEASE });
      expect(again!.run_id).toBe(j.run_id);
      expect(await s().ingestResults([{ workerId: 'w1', result: result(j.run_id, T0 + 5) }], T0 + LEASE + 3)).toEqual(['lease_lost']);
      expect(await s().ingestResults([{ workerId: 'w3', result: result('no-such-run', T0 + 5) }], T0 + LEASE + 3)).toEqual(['lease_lost']);
      expect(await s().listResults({ monitorId: 'm', limit: 10 })).toEqual([]);
      expect(await s().ingestResults([{ workerId: 'w2', result: result(j.run_id, T0 + LEASE + 2) }], T0 + LEASE + 4)).toEqual(['stored']);
      // w1's retry after w2 completed is still refused (another worker's event), and w2's repeat is a duplicate
      expect(await s().ingestResults([{ workerId: 'w1', result: result(j.run_id, T0 + 5) }], T0 + LEASE + 5)).toEqual(['lease_lost']);
      expect(await s().ingestResults([{ workerId: 'w1', result: result(j.run_id, T0 + LEASE + 2) }], T0 + LEASE + 5)).toEqual(['lease_lost']);
      expect(await s().ingestResults([{ workerId: 'w2', result: result(j.run_id, T0 + LEASE + 2) }], T0 + LEASE + 5)).toEqual(['duplicate']);
      expect((await s().listResults({ monitorId: 'm', limit: 10 })).map((r) => r.worker_id)).toEqual(['w2']);
    });

    it('one batch mixes outcomes item by item', async () => {
      const a = await leasedJob('ma');
      const b = await leasedJob('mb', 'w2');
      const out = await s().ingestResults(
        [
          { workerId: 'w1', result: result(a.run_id, T0 + 1) },
          { workerId: 'w1', result: result(b.run_id, T0 + 1) },
          { workerId: 'w1', result: result(a.run_id, T0 + 1) },
        ],
        T0 + 2,
      );
      expect(out).toEqual(['stored', 'lease_lost', 'duplicate']);
      expect(await s().ingestResults([], T0)).toEqual([]);
    });

    it('lists results newest first, filtered by time range and region, capped by limit', async () => {
      await seedJobs(s(), { monitorId: 'm', runs: [T0, T0 + 1_000, T0 + 2_000], now: T0, spec: { regions: ['eu', 'us'] } });
      for (const region of ['eu', 'us']) {
        const jobs = await s().leaseJobs({ workerId: `w-${region}`, region, count: 10, now: T0 + 5_000, leadMs: 0, leaseMs: LEASE });
        expect(jobs).toHaveLength(3);
        await s().ingestResults(
          jobs.map((j) => ({ workerId: `w-${region}`, result: result(j.run_id, j.scheduled_at + (region === 'us' ? 1 : 0), { status: region === 'us' ? 'down' : 'up' }) })),
          T0 + 6_000,
        );
      }
      const all = await s().listResults({ monitorId: 'm', limit: 100 });
      expect(all.map((r) => r.event_at)).toEqual([T0 + 2_001, T0 + 2_000, T0 + 1_001, T0 + 1_000, T0 + 1, T0]);
      expect((await s().listResults({ monitorId: 'm', region: 'us', limit: 100 })).map((r) => [r.region, r.status])).toEqual([
        ['us', 'down'],
        ['us', 'down'],
        ['us', 'down'],
      ]);
      expect((await s().listResults({ monitorId: 'm', from: T0 + 1_000, to: T0 + 2_000, limit: 100 })).map((r) => r.event_at)).toEqual([T0 + 1_001, T0 + 1_000]);
      expect(await s().listResults({ monitorId: 'm', limit: 2 })).toHaveLength(2);
      expect(await s().listResults({ monitorId: 'other', limit: 100 })).toEqual([]);
    });
  });
}
