/**
 * Leasing across replicas: three stores (three pools, as three replicas have) on one database, twenty workers
 * spread over them leasing, completing and sometimes abandoning jobs until the queue is drained. Every job ends
 * with exactly one stored result from the worker that held it; none is lost. Also: NOTIFY wakes the other
 * replicas when jobs become ready.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type OpenedStore } from '../../src/store/index.js';
import { result, seedJobs } from '../store/contract/fixtures.js';
import { waitFor } from '../monitoring/helpers.js';
import { startCluster, type Cluster } from './cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});

const T0 = 1_900_000_000_000;
/** The 100 000 jobs (about 30 s on two cores); VANTAGE_PG_LEASE_JOBS makes a quicker local run. */
const JOBS = Number(process.env.VANTAGE_PG_LEASE_JOBS ?? 100_000);
const WORKERS = 20;

describe('leasing across replicas', () => {
  it(`${JOBS} jobs, ${WORKERS} workers over three replicas: each job done exactly once, none lost`, async () => {
    const url = await cluster.createDatabase('lease');
    const replicas: OpenedStore[] = await Promise.all([0, 1, 2].map(() => openStore({ database: url, db_max_open_conns: 8 })));
    try {
      const runs = Array.from({ length: JOBS }, (_, i) => T0 - i);
      for (let m = 0; m < 10; m++) {
        await seedJobs(replicas[0]!.monitoring, { monitorId: `m${m}`, runs: runs.filter((_, i) => i % 10 === m), now: T0 });
      }
      expect(await replicas[0]!.monitoring.countJobs()).toEqual({ ready: JOBS, leased: 0, done: 0 });
      const stored = new Map<string, string>();
      let abandoned = 0;
      let now = T0;
      await Promise.all(
        Array.from({ length: WORKERS }, async (_, w) => {
          const store = replicas[w % 3]!.monitoring;
          const workerId = `w${w}`;
          for (let round = 0; ; round++) {
            const jobs = await store.leaseJobs({ workerId, region: 'global', count: 50, now, leadMs: 0, leaseMs: 45_000 });
            if (jobs.length === 0) {
              const left = await store.countJobs();
              if (left.ready === 0 && left.leased === 0) return;
              // leases abandoned by other workers: move the clock past them and let a reaper requeue them
              now += 46_000;
              await store.reapExpired({ now, maxAttempts: 1_000, missedBefore: 0 });
              continue;
            }
            // every 7th batch of worker 0 is abandoned (the worker "crashes"): the reaper requeues it
            const keep = w === 0 && round % 7 === 3 ? [] : jobs;
            abandoned += jobs.length - keep.length;
            const out = await store.ingestResults(keep.map((j) => ({ workerId, result: result(j.run_id, j.scheduled_at) })), now);
            keep.forEach((j, i) => {
              if (out[i] === 'stored') {
                expect(stored.has(j.run_id)).toBe(false);
                stored.set(j.run_id, workerId);
              }
            });
          }
        }),
      );
      expect(stored.size).toBe(JOBS);
      expect(abandoned).toBeGreaterThan(0);
      const counts = await replicas[1]!.monitoring.countJobs();
      expect(counts).toEqual({ ready: 0, leased: 0, done: JOBS });
      let results = 0;
      for (let m = 0; m < 10; m++) {
        const rows = await replicas[2]!.monitoring.listResults({ monitorId: `m${m}`, limit: JOBS });
        for (const r of rows) expect(r.worker_id).toBe(stored.get(r.run_id));
        results += rows.length;
      }
      expect(results).toBe(JOBS);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
    // 100 000 leases and results take about 30 s on two idle cores; on a shared, loaded machine it ran past the 60 s default.
  }, 150_000);

  it('jobs made ready on one replica wake the others (NOTIFY), scheduled or requeued', async () => {
    const url = await cluster.createDatabase('wake');
    const [a, b] = await Promise.all([0, 1].map(() => openStore({ database: url })));
    try {
      let woken = 0;
      const off = b!.monitoring.onJobsReady!(() => woken++);
      // b's LISTEN connection is up once a notification sent by a arrives. Each attempt seeds a new monitor's
      // job: a job that exists already is not inserted again, and sends no notification.
      let attempt = 0;
      const ready = async () => {
        const before = woken;
        await seedJobs(a!.monitoring, { monitorId: `probe-${attempt++}`, runs: [T0], now: T0 });
        for (let i = 0; i < 200 && woken === before; i++) await new Promise((r) => setTimeout(r, 10));
        return woken > before;
      };
      let up = false;
      for (let i = 0; i < 20 && !up; i++) up = await ready();
      expect(up).toBe(true);
      const base = woken;
      await a!.monitoring.leaseJobs({ workerId: 'w', region: 'global', count: 100, now: T0, leadMs: 0, leaseMs: 1_000 });
      expect((await a!.monitoring.reapExpired({ now: T0 + 2_000, maxAttempts: 3, missedBefore: 0 })).requeued).toBeGreaterThan(0);
      await waitFor(() => woken > base, { timeoutMs: 2_000, what: 'a wake-up for the requeued jobs' });
      off();
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });
});
