/**
 * Monitoring control-plane benchmark (`npm run bench:monitoring`, `-- --json` for one JSON object).
 *
 * Parts (all on a fresh SQLite file in a temp dir):
 *  1. store    — the SQLite store alone: jobs scheduled/s (scheduleDue over 10 000 monitors), jobs leased/s
 *                (lease batches of 100), results ingested/s (ingest transactions of 500, job completed in the same
 *                transaction), raw results folded into rollups/s, and SQLite file growth per million results.
 *  2. blast    — the whole path through the worker API: N ready jobs, simulated workers (a child process, so the
 *                server's CPU is measured alone) lease them over Connect/HTTP/2 streams and answer every job at
 *                once; results/s acknowledged after commit, sustained until the queue is empty.
 *  3. lag      — steady state at 10 000 monitors on a 30 s interval (first runs spread over one interval, as on a
 *                long-running server): scheduler → dispatcher → stream → worker, which starts each job at its
 *                scheduled_at (corrected by the ping/pong clock offset) and answers at once. Reports the lag
 *                (job start − scheduled_at) p50/p99/max, checks/s, server CPU per 1 000 checks and RSS.
 *
 * Options: --part store|blast|lag (repeatable; default all), --monitors N (10000), --interval-ms (30000),
 * --duration-s (60, lag part), --blast-jobs N (200000), --workers N (4), --json.
 * Goals (issue 8): ≥ 20 000 results/s ingested; lag p99 ≤ 100 ms at 10 000 monitors.
 * Reference: Uptime Kuma 1.23 ran 3 000 HTTP monitors at 20 s (150 checks/s) with 55 % of one core, 300 MB RSS,
 * lag p99 76 ms.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { Registry } from 'prom-client';
import { openSqlite, type SqliteDb } from '../src/store/sqlite/db.js';
import { SqliteMonitoringStore } from '../src/store/sqlite/monitoring.js';
import { SingleNodeLeader } from '../src/store/sqlite/leader.js';
import { spec as monitorSpec } from '../test/store/contract/fixtures.js';
import type { MonitorSpec, ResultInput } from '../src/store/monitoring.js';
import { planRuns } from '../src/monitoring/domain/schedule-math.js';
import { newRunId } from '../src/platform/ids.js';
import { startMonitoringPlane } from '../src/app/monitoring.js';
import { SimWorker } from '../test/monitoring/sim-worker.js';

const argv = process.argv.slice(2);
// `--database postgres://…`: the PostgreSQL targets (bench/monitoring-pg.ts) instead of the SQLite ones.
if (/^postgres(ql)?:\/\//i.test(argv[argv.indexOf('--database') + 1] ?? '') && argv.includes('--database')) {
  await import('./monitoring-pg.js');
}
const JSON_OUT = argv.includes('--json');
function arg(name: string, def: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : def;
}
const parts = argv.flatMap((a, i) => (a === '--part' && argv[i + 1] ? [argv[i + 1]!] : []));
const want = (p: string): boolean => parts.length === 0 || parts.includes(p);

function log(msg: string): void {
  if (!JSON_OUT) process.stderr.write(`${msg}\n`);
}

function spec(over: Partial<MonitorSpec> = {}): MonitorSpec {
  return monitorSpec({ name: 'bench', assertions: ['status == 200'], assertions_compiled: [{ type: 'status', op: '==', value: 200 }], ...over });
}

function result(runId: string, at: number, i: number): ResultInput {
  return {
    run_id: runId,
    event_at: at,
    status: i % 50 === 0 ? 'down' : 'up',
    http_code: i % 50 === 0 ? 503 : 200,
    dns_ms: 0.8,
    connect_ms: 0.5,
    tls_ms: null,
    ttfb_ms: 12 + (i % 17),
    download_ms: 0.3,
    total_ms: 14 + (i % 37),
    size_bytes: 512,
    error: i % 50 === 0 ? 'status 503' : null,
    error_class: i % 50 === 0 ? 'http' : null,
    assertions: '[{"assertion":"status == 200","passed":true,"actual":200}]',
    details: null,
    started_at: at,
    finished_at: at + 15,
  };
}

function tempDb(): { dir: string; path: string; db: SqliteDb; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-mon-'));
  const path = join(dir, 'vantage.db');
  const db = openSqlite(path);
  return { dir, path, db, close: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** Logical database size (pages in use, WAL included), so checkpoints and free pages do not distort growth. */
function dbBytes(db: SqliteDb): number {
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const size = db.pragma('page_size', { simple: true }) as number;
  return (pages - free) * size;
}

/** Runs fn, returning wall ms and CPU seconds of this process. */
async function timed(fn: () => Promise<void>): Promise<{ ms: number; cpuS: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuS: (c.user + c.system) / 1e6 };
}

async function createMonitors(store: SqliteMonitoringStore, n: number, intervalMs: number, now: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await store.createMonitor(spec({ interval_ms: intervalMs, name: `m${i}` }), { id: `m${String(i).padStart(6, '0')}`, actor: 'bench', now, jitterSeed: i * 7919 });
  }
}

interface Row {
  part: string;
  metric: string;
  value: number;
  unit: string;
  goal?: string;
}
const rows: Row[] = [];
const record = (part: string, metric: string, value: number, unit: string, goal?: string): void => {
  rows.push({ part, metric, value: Math.round(value * 100) / 100, unit, goal });
  log(`  ${metric}: ${value.toFixed(2)} ${unit}${goal ? `  (goal ${goal})` : ''}`);
};

/** Records a rate twice: per wall-clock second, and per CPU second (meaningful on a shared, loaded machine). */
function rate(metric: string, n: number, t: { ms: number; cpuS: number }, unit: string, goal?: string): void {
  record('store', metric, (n / t.ms) * 1000, unit, goal);
  record('store', `${metric} per CPU-second`, n / Math.max(1e-9, t.cpuS), unit, goal);
}

// ---------------------------------------------------------------------------------------------------------------
async function storePart(): Promise<void> {
  log('== store (SQLite, in process)');
  const t = tempDb();
  const store = new SqliteMonitoringStore(t.db);
  const monitors = arg('monitors', 10_000);
  const T0 = 1_700_000_000_000;
  await createMonitors(store, monitors, 1_000, T0);

  // schedule: 1 s interval monitors, 20 ticks of 1 s → ~monitors × 25 jobs
  let now = T0;
  let jobs = 0;
  const sched = await timed(async () => {
    for (let i = 0; i < 20; i++, now += 1_000) jobs += (await store.scheduleDue(now, 5_000, (m) => planRuns(m, now, 5_000), newRunId)).jobs;
  });
  rate('jobs scheduled', jobs, sched, 'jobs/s');

  // lease everything in batches of 100
  const leased: string[] = [];
  const lease = await timed(async () => {
    for (;;) {
      const got = await store.leaseJobs({ workerId: 'w', region: 'global', count: 100, now: now + 60_000, leadMs: 0, leaseMs: 600_000 });
      if (got.length === 0) break;
      for (const j of got) leased.push(j.run_id);
    }
  });
  rate('jobs leased', leased.length, lease, 'jobs/s');

  // ingest in transactions of 500 (each: complete the job + insert the result)
  const before = dbBytes(t.db);
  const ingest = await timed(async () => {
    for (let i = 0; i < leased.length; i += 500) {
      const batch = leased.slice(i, i + 500).map((id, k) => ({ workerId: 'w', result: result(id, now + i + k, i + k) }));
      await store.ingestResults(batch, now);
    }
  });
  rate('results ingested', leased.length, ingest, 'results/s', '≥ 20000');

  let folded = 0;
  const roll = await timed(async () => {
    for (;;) {
      const n = await store.rollupPending(5_000);
      folded += n;
      if (n === 0) break;
    }
  });
  rate('results folded into 1m/1h/1d rollups', folded, roll, 'results/s');
  const growth = dbBytes(t.db) - before;
  record('store', 'SQLite growth per million results (raw + rollups)', ((growth / leased.length) * 1e6) / 2 ** 20, 'MiB');
  record('store', 'results in this part', leased.length, 'results');
  t.close();
}

// ---------------------------------------------------------------------------------------------------------------
interface ChildReport {
  jobs: number;
  acks: number;
  committed: number;
  lag: { count: number; p50: number; p99: number; max: number };
  arrival: { lateCount: number; leadP50: number; leadMin: number };
  /** Event-loop delay p99 of the simulated workers' process (ms): timer lateness from CPU starvation. */
  workerLoopDelayP99: number;
  firstAckAt: number;
  lastAckAt: number;
}

function runChild(baseUrl: string, workers: number, credits: number, mode: 'lag' | 'blast', durationMs: number): { done: Promise<ChildReport>; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', baseUrl, String(workers), String(credits), mode, String(durationMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => (readyResolve = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('READY\n')) readyResolve();
  });
  const done = new Promise<ChildReport>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench workers exited ${code}`));
      const line = out.split('\n').filter((l) => l.startsWith('{')).pop();
      resolve(JSON.parse(line!) as ChildReport);
    });
  });
  return { done, ready };
}

async function childMain(): Promise<void> {
  const i = argv.indexOf('--child');
  const [baseUrl, workersArg, creditsArg, mode, durationArg] = argv.slice(i + 1);
  const durationMs = Number(durationArg);
  const lags: number[] = [];
  /** How long before scheduled_at each job arrived (negative: it arrived late). */
  const leads: number[] = [];
  let acks = 0;
  let committed = 0;
  let jobs = 0;
  let answered = 0;
  let firstAckAt = 0;
  let lastAckAt = 0;
  const offsets = new Map<SimWorker, number>();
  const ws: SimWorker[] = [];
  for (let k = 0; k < Number(workersArg); k++) {
    const w = new SimWorker({
      baseUrl: baseUrl!,
      workerId: `bench-${k}`,
      onPing: (p, self) => {
        if (p.clockOffsetMs !== undefined) offsets.set(self, p.clockOffsetMs);
      },
      onAck: (a) => {
        acks++;
        if (a.committed) committed++;
        lastAckAt = Date.now();
        if (firstAckAt === 0) firstAckAt = lastAckAt;
      },
      onJob: (job, self) => {
        jobs++;
        if (mode === 'blast') {
          self.sendResult(job);
          // like an agent: ask for more in chunks as slots free up
          if (++answered % 50 === 0) self.requestJobs(50);
          return;
        }
        const offset = offsets.get(self) ?? 0;
        const startAt = Number(job.scheduledAtMs) + offset; // local clock
        const run = (): void => {
          const lag = Date.now() - offset - Number(job.scheduledAtMs);
          lags.push(lag);
          self.sendResult(job);
          self.requestJobs(1);
        };
        const wait = startAt - Date.now();
        leads.push(wait);
        if (wait > 0) setTimeout(run, wait);
        else run();
      },
    });
    w.register();
    w.requestJobs(Number(creditsArg));
    ws.push(w);
  }
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  process.stdout.write('READY\n');
  const deadline = Date.now() + durationMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    if (mode === 'blast' && jobs > 0 && acks >= Number(process.env.BLAST_JOBS ?? Infinity)) break;
  }
  lags.sort((a, b) => a - b);
  const q = (p: number): number => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? NaN;
  leads.sort((a, b) => a - b);
  const report: ChildReport = {
    jobs,
    acks,
    committed,
    lag: { count: lags.length, p50: q(0.5), p99: q(0.99), max: lags[lags.length - 1] ?? NaN },
    workerLoopDelayP99: loopDelay.percentile(99) / 1e6,
    arrival: { lateCount: leads.filter((l) => l < 0).length, leadP50: leads[Math.floor(leads.length / 2)] ?? NaN, leadMin: leads[0] ?? NaN },
    firstAckAt,
    lastAckAt,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await Promise.all(ws.map((w) => w.kill().catch(() => undefined)));
  process.exit(0);
}

async function blastPart(): Promise<void> {
  const n = arg('blast-jobs', 200_000);
  const workers = arg('workers', 4);
  log(`== blast (${n} ready jobs, ${workers} simulated workers in a child process, worker API over HTTP/2)`);
  const t = tempDb();
  const mon = await startMonitoringPlane({
    config: { host: '127.0.0.1', worker_port: 0, scheduler_interval_ms: 3_600_000, lease_timeout_seconds: 600 },
    logger: pino({ level: 'warn' }, pino.destination(2)),
    store: new SqliteMonitoringStore(t.db),
    leader: new SingleNodeLeader(),
    registry: new Registry(),
    tuning: { dispatchIntervalMs: 50, rollupIntervalMs: 3_600_000 },
  });
  const store = mon.store as SqliteMonitoringStore;
  const now = Date.now();
  for (let m = 0; m < 1_000; m++) await store.createMonitor(spec({ enabled: false }), { id: `m${m}`, actor: 'bench', now, jitterSeed: m });
  const ins = t.db.prepare(`INSERT INTO jobs (run_id, monitor_id, region, status, scheduled_at, created_at) VALUES (?, ?, 'global', 'ready', ?, ?)`);
  t.db.transaction(() => {
    for (let i = 0; i < n; i++) ins.run(newRunId(), `m${i % 1_000}`, now - n + i, now);
  })();
  process.env.BLAST_JOBS = String(n);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const child = runChild(`http://127.0.0.1:${mon.workerPort}`, workers, 500, 'blast', 600_000);
  const rep = await child.done;
  const cpu = process.cpuUsage(cpu0);
  const secs = (rep.lastAckAt - rep.firstAckAt) / 1000;
  record('blast', 'results leased+ingested+acked end to end', rep.committed / secs, 'results/s', '≥ 20000');
  record('blast', 'server CPU during blast', ((cpu.user + cpu.system) / 1e6 / ((performance.now() - wall0) / 1000)) * 100, '% of one core');
  record('blast', 'results committed', rep.committed, 'results');
  const stored = (t.db.prepare('SELECT COUNT(*) AS n FROM results_raw').get() as { n: number }).n;
  if (stored !== n || rep.committed !== n) log(`  WARNING: stored ${stored}, committed ${rep.committed}, expected ${n}`);
  await mon.stop();
  t.close();
}

async function lagPart(): Promise<void> {
  const monitors = arg('monitors', 10_000);
  const interval = arg('interval-ms', 30_000);
  const duration = arg('duration-s', 60) * 1000;
  const workers = arg('workers', 4);
  log(`== lag (${monitors} monitors every ${interval} ms for ${duration / 1000} s, ${workers} simulated workers in a child process)`);
  const t = tempDb();
  // Monitors first (with their phases spread over the interval, as on a long-running server), then the control
  // plane, so the scheduler never sees a creation burst.
  const now = Date.now();
  await createMonitors(new SqliteMonitoringStore(t.db), monitors, interval, now);
  t.db.prepare('UPDATE monitors SET next_due_at = ? + (abs(random()) % ?)').run(Date.now() + 5_000, interval);
  const registry = new Registry();
  const mon = await startMonitoringPlane({
    config: { host: '127.0.0.1', worker_port: 0 },
    logger: pino({ level: 'warn' }, pino.destination(2)),
    store: new SqliteMonitoringStore(t.db),
    leader: new SingleNodeLeader(),
    registry,
  });
  const child = runChild(`http://127.0.0.1:${mon.workerPort}`, workers, Math.ceil((monitors / workers) * 0.2) + 50, 'lag', duration);
  await child.ready;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const stored0 = (t.db.prepare('SELECT COUNT(*) AS n FROM results_raw').get() as { n: number }).n;
  const rep = await child.done;
  const wallS = (performance.now() - wall0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const stored = (t.db.prepare('SELECT COUNT(*) AS n FROM results_raw').get() as { n: number }).n - stored0;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  record('lag', 'scheduler lag p50 (job start − scheduled_at)', rep.lag.p50, 'ms');
  record('lag', 'scheduler lag p99', rep.lag.p99, 'ms', '≤ 100');
  record('lag', 'scheduler lag max', rep.lag.max, 'ms');
  record('lag', 'simulated workers: event-loop delay p99', rep.workerLoopDelayP99, 'ms');
  record('lag', 'machine load average (1 min) at the end', loadavg()[0]!, '');
  record('lag', 'jobs that reached the worker after scheduled_at', rep.arrival.lateCount, 'jobs');
  record('lag', 'job arrival before scheduled_at, p50', rep.arrival.leadP50, 'ms');
  record('lag', 'checks completed', stored / wallS, 'checks/s', `${(monitors / interval) * 1000}`);
  record('lag', 'server CPU', (cpuS / wallS) * 100, '% of one core');
  record('lag', 'server CPU per 1 000 checks', (cpuS / Math.max(1, stored)) * 1000, 'CPU s');
  record('lag', 'server RSS', process.memoryUsage().rss / 2 ** 20, 'MiB');
  record('lag', 'checks measured', rep.lag.count, 'checks');
  await mon.stop();
  t.close();
}

// ---------------------------------------------------------------------------------------------------------------
if (argv.includes('--child')) {
  await childMain();
} else {
  log(`vantage monitoring bench — node ${process.version}, ${new Date().toISOString()}`);
  if (want('store')) await storePart();
  if (want('blast')) await blastPart();
  if (want('lag')) await lagPart();
  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify({ bench: 'monitoring', node: process.version, rows }, null, 2)}\n`);
  } else {
    const w = Math.max(...rows.map((r) => r.metric.length));
    process.stdout.write(`\n${'part'.padEnd(6)}  ${'metric'.padEnd(w)}  ${'value'.padStart(12)}  unit\n`);
    for (const r of rows) {
      process.stdout.write(`${r.part.padEnd(6)}  ${r.metric.padEnd(w)}  ${r.value.toFixed(2).padStart(12)}  ${r.unit}${r.goal ? `  (goal ${r.goal})` : ''}\n`);
    }
  }
  process.exit(0);
}
