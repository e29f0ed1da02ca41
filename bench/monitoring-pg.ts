/**
 * The PostgreSQL control plane's targets (`npm run bench:monitoring -- --database postgres://…`, or
 * `npm run bench:monitoring-pg` for a throwaway cluster). Prints one table (`--json` for an object):
 *
 * - ingest: results/s stored by 20 workers over three store instances (three pools, as three replicas),
 *   batches of 500 (lease time excluded, ack after commit);
 * - leasing: 100 000 jobs, 20 workers over three replicas: duplicates and lost jobs (both must be 0);
 * - scheduler: duration of the leader's scheduling pass with 10 000 monitors at 30 s (p50/p99 over --passes),
 *   while a second replica leases and ingests what it creates (this is the scheduler's share of lag, not an
 *   end-to-end measurement with real checks);
 * - uptime: a 30-day uptime query over 1 000 monitors from the 1d rollups (1 000 queryRollups in parallel);
 * - failover: SIGKILL of the leading `vantage server` (dist/, `npm run build` first) until another leads.
 *
 * Options: --database URL (default: a throwaway cluster), --jobs N (100000), --monitors N (10000),
 * --passes N (30), --skip-failover, --json.
 */
import { performance } from 'node:perf_hooks';
import { openStore, type OpenedStore } from '../src/store/index.js';
import { planRuns } from '../src/monitoring/domain/schedule-math.js';
import { result, seedJobs, spec } from '../test/store/contract/fixtures.js';
import { startCluster, type Cluster } from '../test/pg/cluster.js';
import { startReplica } from '../test/pg/replicas.js';
import { cliArgs } from './lib.js';

const cli = cliArgs();
const JSON_OUT = cli.flag('json');
const T0 = 1_900_000_000_000;
const D = 86_400_000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? NaN;
}

let cluster = null as Cluster | null;
async function database(prefix: string): Promise<string> {
  const given = cli.value('database');
  if (given) {
    // a given server: one fresh database per part, next to the one named
    const u = new URL(given);
    const name = `${prefix}_${Date.now().toString(36)}`;
    const admin = await openStore({ database: given });
    await admin.close();
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: given });
    await c.connect();
    await c.query(`CREATE DATABASE "${name}"`);
    await c.end();
    u.pathname = `/${name}`;
    return u.toString();
  }
  cluster ??= await startCluster({ owned: true });
  return cluster.createDatabase(prefix);
}

async function replicas(url: string, n: number): Promise<OpenedStore[]> {
  return Promise.all(Array.from({ length: n }, () => openStore({ database: url })));
}

async function leaseAndIngest(stores: OpenedStore[], workers: number, jobs: number): Promise<{ ingestS: number; totalS: number; stored: number; duplicates: number }> {
  const seen = new Set<string>();
  let duplicates = 0;
  let ingestMs = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const store = stores[w % stores.length]!.monitoring;
      for (;;) {
        const got = await store.leaseJobs({ workerId: `w${w}`, region: 'global', count: 500, now: T0, leadMs: 0, leaseMs: 3_600_000 });
        if (got.length === 0) return;
        const i0 = performance.now();
        const out = await store.ingestResults(got.map((j) => ({ workerId: `w${w}`, result: result(j.run_id, j.scheduled_at) })), T0);
        ingestMs += performance.now() - i0;
        got.forEach((j, i) => {
          if (out[i] !== 'stored') return;
          if (seen.has(j.run_id)) duplicates++;
          seen.add(j.run_id);
        });
      }
    }),
  );
  const totalS = (performance.now() - t0) / 1000;
  // ingestMs sums the workers' concurrent ingest time; per worker it is what ingest costs in wall time
  return { ingestS: ingestMs / 1000 / workers, totalS, stored: seen.size, duplicates: duplicates + Math.max(0, seen.size - jobs) };
}

async function seed(store: OpenedStore, jobs: number): Promise<void> {
  const perMonitor = 10_000;
  for (let m = 0; m * perMonitor < jobs; m++) {
    const runs = Array.from({ length: Math.min(perMonitor, jobs - m * perMonitor) }, (_, i) => T0 - m * perMonitor - i);
    await seedJobs(store.monitoring, { monitorId: `bench-${m}`, runs, now: T0 });
  }
}

const rows: Array<{ what: string; measured: string; target: string; ok: boolean | null }> = [];

// ---- ingest + exactly-once leasing ----------------------------------------------------------------------
{
  const jobs = cli.opt('jobs', 100_000);
  const url = await database('bench_lease');
  const stores = await replicas(url, 3);
  await seed(stores[0]!, jobs);
  const r = await leaseAndIngest(stores, 20, jobs);
  const counts = await stores[0]!.monitoring.countJobs();
  const lost = jobs - r.stored;
  rows.push({ what: `ingest (${jobs} results, 20 workers, 3 replicas, batches of 500)`, measured: `${Math.round(r.stored / r.ingestS)} results/s`, target: '≥ 20 000 results/s', ok: r.stored / r.ingestS >= 20_000 });
  rows.push({ what: 'lease + ingest end to end', measured: `${Math.round(r.stored / r.totalS)} jobs/s`, target: '(reference)', ok: null });
  rows.push({ what: `exactly-once leasing (${jobs} jobs, 20 workers)`, measured: `${r.duplicates} duplicate(s), ${lost} lost, ${counts.done} done`, target: '0 duplicates, 0 lost', ok: r.duplicates === 0 && lost === 0 && counts.done === jobs });
  await Promise.all(stores.map((s) => s.close()));
}

// ---- scheduler pass --------------------------------------------------------------------------------------
{
  const monitors = cli.opt('monitors', 10_000);
  const passes = cli.opt('passes', 30);
  const url = await database('bench_sched');
  const [leader, other] = await replicas(url, 2);
  const now0 = T0;
  for (let i = 0; i < monitors; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, monitors - i) }, (_, k) =>
        leader!.monitoring.createMonitor(spec({ interval_ms: 30_000 }), { id: `m${String(i + k).padStart(6, '0')}`, actor: 'bench', now: now0 - ((i + k) % 30) * 1000, jitterSeed: i + k }),
      ),
    );
  }
  let n = 0;
  const newRunId = () => `r${n++}`;
  await leader!.monitoring.scheduleDue(now0, 5_000, (m) => planRuns(m, now0, 5_000), newRunId);
  const times: number[] = [];
  let stop = false;
  const drain = (async () => {
    let now = now0;
    while (!stop) {
      const got = await other!.monitoring.leaseJobs({ workerId: 'w', region: 'global', count: 500, now, leadMs: 10_000, leaseMs: 60_000 });
      if (got.length > 0) await other!.monitoring.ingestResults(got.map((j) => ({ workerId: 'w', result: result(j.run_id, j.scheduled_at) })), now);
      else await new Promise((r) => setTimeout(r, 20));
      now += 100;
    }
  })();
  for (let p = 1; p <= passes; p++) {
    const now = now0 + p * 1000;
    const t = performance.now();
    await leader!.monitoring.scheduleDue(now, 5_000, (m) => planRuns(m, now, 5_000), newRunId);
    times.push(performance.now() - t);
  }
  stop = true;
  await drain;
  rows.push({
    what: `scheduler pass, ${monitors} monitors @30 s, 2 replicas (p50 / p99 of ${passes})`,
    measured: `${pct(times, 0.5).toFixed(1)} / ${pct(times, 0.99).toFixed(1)} ms`,
    target: 'lag p99 ≤ 100 ms',
    ok: pct(times, 0.99) <= 100,
  });
  await Promise.all([leader!.close(), other!.close()]);
}

// ---- 30-day uptime query ---------------------------------------------------------------------------------
{
  const url = await database('bench_uptime');
  const [s] = await replicas(url, 1);
  const monitors = 1_000;
  for (let i = 0; i < monitors; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, async (_, k) => {
        const id = `u${i + k}`;
        const runs = Array.from({ length: 30 }, (_, d) => T0 - d * D);
        await seedJobs(s!.monitoring, { monitorId: id, runs, now: T0 });
        const got = await s!.monitoring.leaseJobs({ workerId: `w${k}`, region: 'global', count: 30, now: T0, leadMs: 0, leaseMs: 60_000 });
        await s!.monitoring.ingestResults(got.map((j) => ({ workerId: `w${k}`, result: result(j.run_id, j.scheduled_at) })), T0);
      }),
    );
  }
  while ((await s!.monitoring.rollupPending(10_000)) > 0) {
    /* fold everything */
  }
  const times: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const t = performance.now();
    const all = await Promise.all(Array.from({ length: monitors }, (_, i) => s!.monitoring.queryRollups({ monitorId: `u${i}`, resolution: '1d', from: T0 - 30 * D, to: T0 + D })));
    times.push(performance.now() - t);
    if (all.some((r) => r.length === 0)) throw new Error('uptime query: a monitor without rollups');
  }
  rows.push({ what: '30-day uptime, 1 000 monitors, from 1d rollups (best / median of 5)', measured: `${Math.min(...times).toFixed(1)} / ${pct(times, 0.5).toFixed(1)} ms`, target: '≤ 50 ms', ok: pct(times, 0.5) <= 50 });
  await s!.close();
}

// ---- leader failover -------------------------------------------------------------------------------------
if (!cli.flag('skip-failover')) {
  const url = await database('bench_failover');
  const procs = await Promise.all(['a', 'b', 'c'].map((name) => startReplica({ name, database: url, args: ['--health-check-enabled', 'false'] })));
  const leads = (r: (typeof procs)[number]) => r.output().includes('acquired the leader lock');
  const until = async (cond: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('failover: timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await until(() => procs.some(leads), 30_000);
  const leader = procs.find(leads)!;
  const t = performance.now();
  await leader.kill('SIGKILL');
  await until(() => procs.some((r) => r !== leader && leads(r)), 30_000);
  const ms = performance.now() - t;
  rows.push({ what: 'leader failover after SIGKILL (3 replicas)', measured: `${(ms / 1000).toFixed(2)} s`, target: '≤ 10 s', ok: ms <= 10_000 });
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
}

await cluster?.destroy();
if (JSON_OUT) console.log(JSON.stringify(rows));
else {
  console.log('| what | measured | target | met |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.what} | ${r.measured} | ${r.target} | ${r.ok === null ? '' : r.ok ? 'yes' : 'NO'} |`);
}
process.exit(0);
