/**
 * Alerts benchmark (`npm run bench:alerts`, `-- --json` for one JSON object). On fresh SQLite files in a temp dir.
 *
 *  1. ingest   — 10 000 monitors (--monitors), --runs results each through the real IngestQueue (batches of 500),
 *                once with no listener and once with the alert engine on onStored (1 % of the monitors fail
 *                three times in a row and recover, so incidents and outbox rows are written too). Reports the
 *                wall time of each, the overhead in %, and the engine's own CPU per result (the listener called
 *                directly over the same results and its chains drained — each run is counted in the store's
 *                alert_region_state on the `store` path — which is less noisy on a shared machine).
 *                Goal (issue 19): rule evaluation adds ≤ 5 % to ingest cost.
 *                `--region-counts memory|store|both` (default both): where the engine keeps the region counts
 *                (memory = the SQLite default, store = shared by replicas, the PostgreSQL default); one table each.
 *                `--rounds N` (default 3): the variants are measured interleaved N times; the medians are shown.
 *  2. latency  — the deciding result → the webhook arriving at a loopback receiver, with the real loops (sender
 *                every alert_sender_interval_ms, woken after each transition). --alerts samples in groups of 10.
 *                Goal: p99 ≤ 2 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IngestQueue } from '../src/monitoring/control/ingest.js';
import { startAlerts } from '../src/monitoring/alerts/index.js';
import type { RegionCountsMode } from '../src/monitoring/alerts/engine.js';
import { openSqliteStore, type OpenedStore } from '../src/store/index.js';
import { result, spec } from '../test/store/contract/fixtures.js';
import { alertsConfig, Receiver } from '../test/alerts/harness.js';
import { cliArgs } from './lib.js';

const a = cliArgs();
const MONITORS = a.opt('monitors', 10_000);
const RUNS = a.opt('runs', 5);
const SAMPLES = a.opt('alerts', 100);
const MODE_ARG = a.value('region-counts') ?? 'both';
if (MODE_ARG !== 'memory' && MODE_ARG !== 'store' && MODE_ARG !== 'both') {
  console.error(`--region-counts: expected memory, store or both, got "${MODE_ARG}"`);
  process.exit(2);
}
const MODES: RegionCountsMode[] = MODE_ARG === 'both' ? ['memory', 'store'] : [MODE_ARG];
/** Rounds of (no engine, then each path), interleaved so that a change of machine load hits every variant; medians reported. */
const ROUNDS = a.opt('rounds', 3);
const median = (xs: number[]): number => pct(xs, 50);
const T0 = 1_800_000_000_000;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function seed(o: OpenedStore, n: number, runs: number): Promise<{ worker: string; items: { runId: string; at: number; monitorId: string }[] }> {
  for (let i = 0; i < n; i++) await o.monitoring.createMonitor(spec({ name: `m${i}` }), { id: `mon_${i}`, actor: 'bench', now: T0, jitterSeed: i });
  let k = 0;
  await o.monitoring.scheduleDue(T0, 0, () => ({ runs: Array.from({ length: runs }, (_, r) => T0 + r * 30_000), nextDueAt: T0 + 1e12, catchUp: false }), () => `run_${k++}`);
  const items: { runId: string; at: number; monitorId: string }[] = [];
  for (;;) {
    const leased = await o.monitoring.leaseJobs({ workerId: 'w1', region: 'global', count: 5000, now: T0 + runs * 30_000, leadMs: 0, leaseMs: 1e12 });
    if (leased.length === 0) break;
    for (const j of leased) items.push({ runId: j.run_id, at: j.scheduled_at, monitorId: j.monitor_id });
  }
  items.sort((x, y) => x.at - y.at || x.monitorId.localeCompare(y.monitorId));
  return { worker: 'w1', items };
}

/** 1 % of monitors fail their first three runs, then pass. */
const statusOf = (monitorId: string, at: number): 'up' | 'down' => (Number(monitorId.slice(4)) % 100 === 0 && at < T0 + 3 * 30_000 ? 'down' : 'up');

async function ingestPart(mode: RegionCountsMode | null): Promise<{ ms: number; results: number; transitions: number; evalUsPerResult: number; steadyUsPerResult: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-alerts-'));
  const o = openSqliteStore(join(dir, 'vantage.db'));
  try {
    const { worker, items } = await seed(o, MONITORS, RUNS);
    const ingest = new IngestQueue({ store: o.monitoring, now: () => T0, maxBatch: 500 });
    const alerts = mode !== null
      ? await startAlerts({ config: alertsConfig({ alert_channels: [{ name: 'hook', type: 'webhook', default: true, enabled: true, settings: { url: 'http://127.0.0.1:9/' } }] }), alerts: o.alerts, monitoring: o.monitoring, now: () => T0, regionCounts: mode, onStored: (l) => ingest.onStored(l), loops: false })
      : null;
    const t0 = performance.now();
    await Promise.all(items.map((it) => ingest.submit(worker, result(it.runId, it.at, { status: statusOf(it.monitorId, it.at), total_ms: 40 }), { monitorId: it.monitorId, region: 'global' })));
    await alerts?.engine.flush();
    const ms = performance.now() - t0;
    let evalUs = 0;
    let steadyUs = 0;
    if (alerts) {
      // The listener alone over the same results (on a second engine state: a fresh catalogue, same rules).
      const fresh = await startAlerts({ config: alertsConfig(), alerts: o.alerts, monitoring: o.monitoring, now: () => T0, regionCounts: mode!, loops: false });
      const rs = items.map((it) => ({ job: { monitorId: it.monitorId, region: 'global' }, r: result(it.runId, it.at, { status: 'up', total_ms: 40 }) }));
      // The listener only queues; each run is counted in the store (alert_region_state) and judged in the
      // monitor's chain, so the measurement includes draining the chains.
      const c0 = process.cpuUsage();
      for (const x of rs) fresh.engine.onStored(x.job, x.r);
      await fresh.engine.flush();
      const c = process.cpuUsage(c0);
      evalUs = (c.user + c.system) / rs.length;
      // The same number of later runs once every monitor has been judged (sustained ingest, no first sight).
      const later = RUNS * 30_000;
      const rs2 = items.map((it) => ({ job: { monitorId: it.monitorId, region: 'global' }, r: result(`${it.runId}-later`, it.at + later, { status: 'up', total_ms: 40 }) }));
      const s0 = process.cpuUsage();
      for (const x of rs2) fresh.engine.onStored(x.job, x.r);
      await fresh.engine.flush();
      const s = process.cpuUsage(s0);
      steadyUs = (s.user + s.system) / rs2.length;
      await fresh.stop();
    }
    const transitions = alerts?.engine.transitions ?? 0;
    await alerts?.stop();
    await ingest.close();
    return { ms, results: items.length, transitions, evalUsPerResult: evalUs, steadyUsPerResult: steadyUs };
  } finally {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function latencyPart(mode: RegionCountsMode): Promise<{ samples: number; p50: number; p99: number; max: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-alerts-'));
  const o = openSqliteStore(join(dir, 'vantage.db'));
  const rx = await new Receiver().start();
  try {
    const { worker, items } = await seed(o, SAMPLES, 3);
    const ingest = new IngestQueue({ store: o.monitoring, now: () => Date.now(), windowMs: 10 });
    const alerts = await startAlerts({ config: alertsConfig({ alert_channels: [{ name: 'hook', type: 'webhook', default: true, enabled: true, settings: { url: rx.url() } }] }), alerts: o.alerts, monitoring: o.monitoring, now: () => Date.now(), regionCounts: mode, onStored: (l) => ingest.onStored(l), loops: true });
    const byMonitor = new Map<string, typeof items>();
    for (const it of items) byMonitor.set(it.monitorId, [...(byMonitor.get(it.monitorId) ?? []), it]);
    const decidedAt = new Map<string, number>();
    const ids = [...byMonitor.keys()];
    for (let g = 0; g < ids.length; g += 10) {
      const group = ids.slice(g, g + 10);
      for (const id of group) {
        const runs = byMonitor.get(id)!;
        for (let r = 0; r < 3; r++) {
          if (r === 2) decidedAt.set(id, performance.now());
          await ingest.submit(worker, result(runs[r]!.runId, runs[r]!.at, { status: 'down' }), { monitorId: id, region: 'global' });
        }
      }
      const want = g + group.length;
      const deadline = Date.now() + 30_000;
      while (rx.got.length < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    }
    const lat: number[] = [];
    const arrived = rx.got.map((x) => ({ id: String((JSON.parse(x.body) as { monitorId: string }).monitorId), at: x.at }));
    // Receiver timestamps are Date.now(); convert the decided performance.now() marks to the same clock.
    const offset = Date.now() - performance.now();
    for (const x of arrived) lat.push(x.at - (decidedAt.get(x.id)! + offset));
    await alerts.stop();
    await ingest.close();
    return { samples: lat.length, p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat) };
  } finally {
    await rx.stop();
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Ingested = Awaited<ReturnType<typeof ingestPart>>;
const baseRuns: Ingested[] = [];
const modeRuns = new Map<RegionCountsMode, Ingested[]>(MODES.map((m) => [m, []]));
for (let r = 0; r < ROUNDS; r++) {
  baseRuns.push(await ingestPart(null));
  for (const mode of MODES) modeRuns.get(mode)!.push(await ingestPart(mode));
}
const base = { ms: median(baseRuns.map((x) => x.ms)), results: baseRuns[0]!.results };
const ingestUs = (base.ms * 1000) / base.results;
const paths: Record<string, unknown> = {};
const tables: string[][][] = [];
for (const mode of MODES) {
  const runs = modeRuns.get(mode)!;
  const withRules = { ms: median(runs.map((x) => x.ms)), evalUsPerResult: median(runs.map((x) => x.evalUsPerResult)), steadyUsPerResult: median(runs.map((x) => x.steadyUsPerResult)), transitions: runs[0]!.transitions };
  const latency = await latencyPart(mode);
  const overhead = ((withRules.ms - base.ms) / base.ms) * 100;
  const out = {
    ingest_ms_with_rules: Math.round(withRules.ms),
    ingest_ms_with_rules_rounds: runs.map((x) => Math.round(x.ms)),
    overhead_wall_pct: Number(overhead.toFixed(1)),
    eval_us_per_result: Number(withRules.evalUsPerResult.toFixed(2)),
    overhead_cpu_pct: Number(((withRules.evalUsPerResult / ingestUs) * 100).toFixed(1)),
    steady_eval_us_per_result: Number(withRules.steadyUsPerResult.toFixed(2)),
    steady_overhead_cpu_pct: Number(((withRules.steadyUsPerResult / ingestUs) * 100).toFixed(1)),
    transitions: withRules.transitions,
    latency,
  };
  paths[mode] = out;
  tables.push([
    ['metric', `region counts: ${mode}`, 'goal'],
    ['monitors × runs (results)', `${MONITORS} × ${RUNS} (${base.results})`, ''],
    ['rounds (medians below)', String(ROUNDS), ''],
    ['ingest, no rules (ms)', String(Math.round(base.ms)), ''],
    ['ingest, with alert engine (ms)', String(out.ingest_ms_with_rules), ''],
    ['  each round: no rules / with engine (ms)', baseRuns.map((b, i) => `${Math.round(b.ms)}/${Math.round(runs[i]!.ms)}`).join(' '), ''],
    ['overhead, wall clock (%)', String(out.overhead_wall_pct), '≤ 5'],
    ['ingest cost per result (µs)', ingestUs.toFixed(2), ''],
    ['rule evaluation per result (µs CPU)', String(out.eval_us_per_result), ''],
    ['overhead, evaluation CPU / ingest (%)', String(out.overhead_cpu_pct), '≤ 5'],
    ['  the same once every monitor was judged (µs CPU)', String(out.steady_eval_us_per_result), ''],
    ['  its overhead, evaluation CPU / ingest (%)', String(out.steady_overhead_cpu_pct), '≤ 5'],
    ['transitions written (1 % of monitors down + up)', String(out.transitions), ''],
    ['result → webhook p50 (ms)', latency.p50.toFixed(1), ''],
    ['result → webhook p99 (ms)', latency.p99.toFixed(1), '≤ 2000'],
    ['result → webhook max (ms)', latency.max.toFixed(1), ''],
    ['latency samples', String(latency.samples), ''],
  ]);
}
if (a.flag('json')) {
  console.log(JSON.stringify({ monitors: MONITORS, results: base.results, ingest_ms_without: Math.round(base.ms), ingest_ms_without_rounds: baseRuns.map((x) => Math.round(x.ms)), rounds: ROUNDS, ingest_us_per_result: Number(ingestUs.toFixed(2)), paths }));
} else {
  for (const [i, rows] of tables.entries()) {
    if (i > 0) console.log('');
    const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((c, k) => c.padEnd(w[k]!)).join('  '));
  }
}
