/**
 * Exactly-once leasing end to end: three real `vantage server` processes on one PostgreSQL database, twenty
 * workers speaking the real WorkerService stream protocol (Connect over HTTP/2: Register, JobRequest credits,
 * Job, Result, ResultAck, Ping/Pong; test/monitoring/sim-worker.ts, lightweight instead of twenty agent
 * processes on two cores) spread over the three replicas' worker ports. 100 000 jobs are seeded before the
 * replicas start; every job must be delivered to exactly one worker, acknowledged as committed exactly once,
 * and stored exactly once; none is left ready or leased.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { seedJobs } from '../store/contract/fixtures.js';
import { waitFor } from '../monitoring/helpers.js';
import { SimWorker } from '../monitoring/sim-worker.js';
import { sql, startCluster, type Cluster } from './cluster.js';
import { http, startReplica, type Replica } from './replicas.js';

/** The 100 000 jobs; VANTAGE_PG_STREAM_JOBS makes a quicker local run. */
const JOBS = Number(process.env.VANTAGE_PG_STREAM_JOBS ?? 100_000);
const WORKERS = 20;
const MONITORS = 100;
/** Credits each worker keeps outstanding (it asks for more as results are acknowledged). */
const CREDITS = 200;
const TOKEN = 'stream-test-token';

let cluster: Cluster;
let url: string;
let replicas: Replica[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('streams');
  // Seeded before any replica runs (so no scheduler pass races the seeding): MONITORS monitors whose runs lie
  // within the last second, leasable at once and far from being closed as missed.
  const store = await openStore({ database: url, db_max_open_conns: 4 });
  try {
    const now = Date.now();
    const perMonitor = Math.ceil(JOBS / MONITORS);
    for (let m = 0; m < MONITORS; m++) {
      const n = Math.min(perMonitor, JOBS - m * perMonitor);
      if (n <= 0) break;
      await seedJobs(store.monitoring, { monitorId: `m${m}`, runs: Array.from({ length: n }, (_, i) => now - n + i), now });
    }
    expect(await store.monitoring.countJobs()).toEqual({ ready: JOBS, leased: 0, done: 0 });
  } finally {
    await store.close();
  }
  replicas = await Promise.all(
    ['a', 'b', 'c'].map((name) => startReplica({ name, database: url, args: ['--health-check-enabled', 'false', '--cluster-token', TOKEN] })),
  );
  for (const r of replicas) await waitFor(async () => (await http(`${r.url}/health`)).status === 200, { timeoutMs: 30_000, intervalMs: 50, what: `${r.name} healthy` });
}, 180_000);
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
  await cluster?.destroy();
});

describe('exactly-once leasing over three real replicas and twenty worker streams', () => {
  it(`${JOBS} jobs, ${WORKERS} workers over three replicas: each delivered, acknowledged and stored once, none lost`, async () => {
    const delivered = new Map<string, number>();
    const committed = new Map<string, number>();
    const refused: string[] = [];
    let acked = 0;
    const t0 = Date.now();
    const workers = Array.from({ length: WORKERS }, (_, w) => {
      const replica = replicas[w % 3]!;
      let sinceRequest = 0;
      return new SimWorker({
        baseUrl: `http://127.0.0.1:${replica.workerPort}`,
        token: TOKEN,
        region: 'global',
        hostname: `sim-${w}`,
        onJob: (job, sw) => {
          delivered.set(job.runId, (delivered.get(job.runId) ?? 0) + 1);
          sw.sendResult(job, { eventAtMs: job.scheduledAtMs, startedAtMs: job.scheduledAtMs, finishedAtMs: job.scheduledAtMs + 3n });
        },
        onAck: (ack, sw) => {
          if (ack.committed) {
            committed.set(ack.runId, (committed.get(ack.runId) ?? 0) + 1);
            acked++;
          } else refused.push(`${ack.runId}:${ack.reason}`);
          // credits come back in blocks, as a worker that finished k jobs asks for k more
          if (++sinceRequest >= 50) {
            sw.requestJobs(sinceRequest);
            sinceRequest = 0;
          }
        },
      });
    });
    try {
      for (const w of workers) w.register();
      await waitFor(() => workers.every((w) => w.registration !== null), { timeoutMs: 20_000, what: 'every worker registered' });
      expect(workers.every((w) => w.registration!.accepted)).toBe(true);
      for (const w of workers) w.requestJobs(CREDITS);
      await waitFor(() => acked >= JOBS || workers.some((w) => w.ended), { timeoutMs: 170_000, intervalMs: 200, what: `${JOBS} acknowledged results (have ${acked})` });
      const elapsedS = (Date.now() - t0) / 1000;
      expect(workers.filter((w) => w.ended).map((w) => String(w.endError))).toEqual([]);
      // nothing more arrives once every job is done (a duplicate would show up here)
      await new Promise((r) => setTimeout(r, 500));
      const dupDelivered = [...delivered].filter(([, n]) => n > 1);
      const dupCommitted = [...committed].filter(([, n]) => n > 1);
      expect({ delivered: delivered.size, dupDelivered: dupDelivered.length, committed: committed.size, dupCommitted: dupCommitted.length, refused: refused.slice(0, 5) }).toEqual({
        delivered: JOBS,
        dupDelivered: 0,
        committed: JOBS,
        dupCommitted: 0,
        refused: [],
      });
      // every replica served streams (the work was spread over the three)
      const perWorker = workers.map((w) => w.jobs.length);
      for (let r = 0; r < 3; r++) expect(perWorker.filter((_, w) => w % 3 === r).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
      const [counts] = await sql<{ ready: string; leased: string; done: string }>(
        url,
        `SELECT count(*) FILTER (WHERE status = 'ready') AS ready, count(*) FILTER (WHERE status = 'leased') AS leased, count(*) FILTER (WHERE status = 'done') AS done FROM jobs`,
      );
      expect(counts).toEqual({ ready: '0', leased: '0', done: String(JOBS) });
      const [stored] = await sql<{ n: string; runs: string }>(url, 'SELECT count(*) AS n, count(DISTINCT run_id) AS runs FROM results_raw');
      expect(stored).toEqual({ n: String(JOBS), runs: String(JOBS) });
      console.log(`exactly-once leasing: ${JOBS} jobs over 3 replicas and ${WORKERS} streams in ${elapsedS.toFixed(1)} s (${Math.round(JOBS / elapsedS)} jobs/s)`);
    } finally {
      await Promise.all(workers.map((w) => w.kill().catch(() => undefined)));
    }
  }, 200_000);
});
