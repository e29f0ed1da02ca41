/** Contract scenarios of job leasing: region order, lead time, worker-id checks, the types filter, the reaper, concurrency. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ContractContext } from './index.js';
import { result, seedJobs } from './fixtures.js';

const T0 = 1_700_000_000_000;
const LEASE = 45_000;

export function leasingScenarios(ctx: ContractContext): void {
  const s = () => ctx.stores().monitoring;
  const lease = (workerId: string, region: string, count: number, now = T0, over: { leadMs?: number; types?: readonly string[] } = {}) =>
    s().leaseJobs({ workerId, region, count, now, leadMs: over.leadMs ?? 0, leaseMs: LEASE, ...(over.types ? { types: over.types } : {}) });

  describe('leasing', () => {
    it("gives a worker its own region's jobs first, then global ones, never another region's", async () => {
      await seedJobs(s(), { monitorId: 'mg', runs: [T0], now: T0, spec: { regions: ['global'] } });
      await seedJobs(s(), { monitorId: 'me', runs: [T0], now: T0, spec: { regions: ['eu'] } });
      await seedJobs(s(), { monitorId: 'mu', runs: [T0], now: T0, spec: { regions: ['us'] } });
      expect((await lease('w-eu', 'eu', 1)).map((j) => j.region)).toEqual(['eu']);
      expect((await lease('w-eu', 'eu', 5)).map((j) => j.region)).toEqual(['global']);
      expect(await lease('w-eu', 'eu', 5)).toEqual([]);
      expect((await lease('w-us', 'us', 5)).map((j) => j.region)).toEqual(['us']);
    });

    it('leases oldest first, at most dispatch lead before scheduled_at, and carries the monitor fields', async () => {
      const monitor = { url: 'http://x/y', method: 'POST', headers: { a: 'b' }, body: 'hi', timeout_ms: 1_234, options: { o: 1 }, assertions_compiled: [{ k: 1 }], name: 'n', type: 'http' };
      const [late, early] = await seedJobs(s(), { monitorId: 'm1', runs: [T0 + 3_000, T0 + 2_500], now: T0, spec: monitor });
      expect(await lease('w', 'global', 5, T0, { leadMs: 2_000 })).toEqual([]);
      const got = await lease('w', 'global', 5, T0 + 1_000, { leadMs: 2_000 });
      expect(got.map((j) => j.run_id)).toEqual([early, late]);
      expect(got[0]).toEqual({
        run_id: early,
        monitor_id: 'm1',
        region: 'global',
        scheduled_at: T0 + 2_500,
        lease_expires_at: T0 + 1_000 + LEASE,
        attempt: 1,
        monitor,
      });
      expect(await s().getJob(early!)).toMatchObject({ status: 'leased', worker_id: 'w', lease_expires_at: T0 + 1_000 + LEASE });
    });

    it('a count of 0 (or less) leases nothing; count caps the batch', async () => {
      await seedJobs(s(), { monitorId: 'm', runs: [T0, T0 + 1, T0 + 2], now: T0 + 10 });
      expect(await lease('w', 'global', 0, T0 + 10)).toEqual([]);
      expect(await lease('w', 'global', -3, T0 + 10)).toEqual([]);
      expect(await lease('w', 'global', 2, T0 + 10)).toHaveLength(2);
      expect(await s().countJobs()).toEqual({ ready: 1, leased: 2, done: 0 });
    });

    it('types: only jobs whose monitor type the worker can run; absent = any; empty = none', async () => {
      const [h] = await seedJobs(s(), { monitorId: 'mh', runs: [T0], now: T0, spec: { type: 'http' } });
      const [d] = await seedJobs(s(), { monitorId: 'md', runs: [T0 + 1], now: T0, spec: { type: 'dns', regions: ['eu'] } });
      const [x] = await seedJobs(s(), { monitorId: 'mx', runs: [T0 + 2], now: T0, spec: { type: 'fake-type' } });
      expect(await lease('w0', 'eu', 10, T0 + 5, { types: [] })).toEqual([]);
      expect(await lease('w1', 'eu', 10, T0 + 5, { types: ['tcp', 'tls'] })).toEqual([]);
      // the region preference still holds inside the filter: eu's dns job first, then global ones of the listed types
      expect((await lease('w2', 'eu', 10, T0 + 5, { types: ['dns', 'fake-type'] })).map((j) => [j.run_id, j.monitor.type])).toEqual([
        [d, 'dns'],
        [x, 'fake-type'],
      ]);
      expect((await lease('w3', 'eu', 10, T0 + 5)).map((j) => j.run_id)).toEqual([h]);
    });

    it('renewal keeps a lease alive past the lease time; another worker can neither renew nor complete it', async () => {
      const [id] = await seedJobs(s(), { monitorId: 'm', runs: [T0], now: T0 });
      await lease('w1', 'global', 1);
      for (let now = T0 + 10_000; now <= T0 + 120_000; now += 10_000) {
        expect(await s().renewLeases({ workerId: 'w1', runIds: [id!], now, leaseMs: LEASE })).toEqual({ renewed: [id], lost: [] });
        expect(await s().reapExpired({ now, maxAttempts: 3, missedBefore: 0 })).toEqual({ requeued: 0, expired: 0, missed: 0 });
      }
      expect(await s().getJob(id!)).toMatchObject({ status: 'leased', worker_id: 'w1', lease_expires_at: T0 + 120_000 + LEASE });
      expect(await s().renewLeases({ workerId: 'w2', runIds: [id!, 'nope'], now: T0 + 121_000, leaseMs: LEASE })).toEqual({ renewed: [], lost: [id, 'nope'] });
      expect(await s().ingestResults([{ workerId: 'w2', result: result(id!, T0 + 121_000) }], T0 + 121_000)).toEqual(['lease_lost']);
      expect(await s().getJob(id!)).toMatchObject({ status: 'leased', worker_id: 'w1', lease_expires_at: T0 + 120_000 + LEASE });
      expect(await s().renewLeases({ workerId: 'w1', runIds: [], now: T0, leaseMs: LEASE })).toEqual({ renewed: [], lost: [] });
    });

    it('the reaper returns expired leases to ready with attempts + 1, and closes the job with an expiry result after max attempts', async () => {
      const [id] = await seedJobs(s(), { monitorId: 'm', runs: [T0], now: T0 });
      let now = T0;
      for (let attempt = 1; attempt <= 3; attempt++) {
        const [j] = await lease(`w${attempt}`, 'global', 1, now);
        expect(j!.attempt).toBe(attempt);
        // exactly at the expiry the lease still holds
        expect(await s().reapExpired({ now: now + LEASE, maxAttempts: 3, missedBefore: 0 })).toEqual({ requeued: 0, expired: 0, missed: 0 });
        now += LEASE + 1;
        const r = await s().reapExpired({ now, maxAttempts: 3, missedBefore: 0 });
        expect(r).toEqual(attempt < 3 ? { requeued: 1, expired: 0, missed: 0 } : { requeued: 0, expired: 1, missed: 0 });
        const job = await s().getJob(id!);
        expect(job).toMatchObject({ attempts: attempt, status: attempt < 3 ? 'ready' : 'done', worker_id: attempt < 3 ? null : 'w3' });
      }
      expect((await s().getJob(id!))!.outcome).toBe('expired');
      const rows = await s().listResults({ monitorId: 'm', limit: 10 });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ run_id: id, status: 'expired', error_class: 'lease_expired', worker_id: 'w3', region: 'global', total_ms: null, http_code: null });
    });

    it('closes ready jobs nobody leased in time as missed, without a result', async () => {
      const [id] = await seedJobs(s(), { monitorId: 'm', runs: [T0], now: T0, spec: { regions: ['mars'] } });
      expect(await s().reapExpired({ now: T0 + 600_000, maxAttempts: 3, missedBefore: T0 })).toEqual({ requeued: 0, expired: 0, missed: 0 });
      expect(await s().reapExpired({ now: T0 + 600_000, maxAttempts: 3, missedBefore: T0 + 1 })).toEqual({ requeued: 0, expired: 0, missed: 1 });
      expect(await s().getJob(id!)).toMatchObject({ status: 'done', outcome: 'missed' });
      expect(await s().listResults({ monitorId: 'm', limit: 10 })).toEqual([]);
      expect(await s().getJob('no-such-run')).toBeNull();
    });
  });

  describe('leasing: concurrency', () => {
    it('parallel leaseJobs calls never hand out a job twice, and together drain the queue', async () => {
      const runs = Array.from({ length: 300 }, (_, i) => T0 - i);
      const ids = await seedJobs(s(), { monitorId: 'm', runs, now: T0 });
      const batches = await Promise.all(Array.from({ length: 30 }, (_, w) => lease(`w${w}`, 'global', 1 + (w % 7) * 3, T0)));
      const more = await Promise.all(Array.from({ length: 30 }, (_, w) => lease(`w${w}`, 'global', 50, T0)));
      const got = [...batches, ...more].flat().map((j) => j.run_id);
      expect(new Set(got).size).toBe(got.length);
      expect(new Set(got)).toEqual(new Set(ids));
      expect(await s().countJobs()).toEqual({ ready: 0, leased: 300, done: 0 });
    });

    it('property: under random interleavings of lease/renew/complete/reap by many workers, a job is never held by two workers at once', async () => {
      type Op =
        | { k: 'lease'; w: number; n: number }
        | { k: 'renew'; w: number }
        | { k: 'complete'; w: number; pick: number }
        | { k: 'tick'; dt: number }
        | { k: 'reap' };
      const opArb: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ k: fc.constant('lease' as const), w: fc.integer({ min: 0, max: 19 }), n: fc.integer({ min: 1, max: 8 }) }),
        fc.record({ k: fc.constant('renew' as const), w: fc.integer({ min: 0, max: 19 }) }),
        fc.record({ k: fc.constant('complete' as const), w: fc.integer({ min: 0, max: 19 }), pick: fc.nat() }),
        fc.record({ k: fc.constant('tick' as const), dt: fc.integer({ min: 1, max: 30_000 }) }),
        fc.record({ k: fc.constant('reap' as const) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 40 }), async (rounds) => {
          const local = await ctx.open();
          try {
            const st = local.stores.monitoring;
            await seedJobs(st, { monitorId: 'm', runs: Array.from({ length: 30 }, (_, i) => T0 - i), now: T0 });
            let now = T0;
            /** What each worker believes it holds: run id → lease expiry it was told. */
            const held = Array.from({ length: 20 }, () => new Map<string, number>());
            const completedBy = new Map<string, number>();
            for (const round of rounds) {
              // the operations of one round run concurrently
              await Promise.all(
                round.map(async (op) => {
                  if (op.k === 'tick') now += op.dt;
                  else if (op.k === 'reap') await st.reapExpired({ now, maxAttempts: 3, missedBefore: 0 });
                  else if (op.k === 'lease') {
                    const at = now;
                    const jobs = await st.leaseJobs({ workerId: `w${op.w}`, region: 'global', count: op.n, now: at, leadMs: 0, leaseMs: LEASE });
                    for (const j of jobs) {
                      // Nobody else may hold an unexpired lease on it, and nobody completed it.
                      held.forEach((h, w) => {
                        if (w !== op.w && h.has(j.run_id)) expect(h.get(j.run_id)!).toBeLessThan(at);
                      });
                      expect(completedBy.has(j.run_id)).toBe(false);
                      held[op.w]!.set(j.run_id, j.lease_expires_at);
                    }
                  } else if (op.k === 'renew') {
                    const ids = [...held[op.w]!.keys()];
                    // `now` may move (a concurrent tick) while the renewal is in flight: the lease runs from the renewal's own time.
                    const at = now;
                    const r = await st.renewLeases({ workerId: `w${op.w}`, runIds: ids, now: at, leaseMs: LEASE });
                    for (const id of r.renewed) held[op.w]!.set(id, at + LEASE);
                    for (const id of r.lost) held[op.w]!.delete(id);
                  } else {
                    const ids = [...held[op.w]!.keys()];
                    if (ids.length === 0) return;
                    const id = ids[op.pick % ids.length]!;
                    const [o] = await st.ingestResults([{ workerId: `w${op.w}`, result: result(id, now) }], now);
                    if (o === 'stored') {
                      expect(completedBy.has(id)).toBe(false);
                      completedBy.set(id, op.w);
                    }
                    held[op.w]!.delete(id);
                  }
                }),
              );
            }
            // Every stored result came from the worker that completed the job.
            const rows = (await st.listResults({ monitorId: 'm', limit: 1_000 })).filter((r) => r.status !== 'expired');
            expect(rows.length).toBe(completedBy.size);
            for (const r of rows) expect(r.worker_id).toBe(`w${completedBy.get(r.run_id)}`);
          } finally {
            await local.close();
          }
        }),
        { numRuns: 40 },
      );
    });
  });
}
