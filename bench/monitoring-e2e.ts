/**
 * Monitoring end-to-end benchmark (`npm run bench:monitoring-e2e`; `-- --json` for one JSON object).
 *
 * Real processes on loopback: one `vantage server` (dist/cli/main.js, SQLite file, worker API on
 * its own port) and N agent processes (runAgent with the monitoring worker attached, from dist/),
 * checking a local HTTP target server that runs in this process.
 *
 *  1. Setup: start the server, create M http monitors (interval I, `status == 200`) through the
 *     MonitorsService API, stop the server.
 *  2. Start: start the server and the agents at t0; measure the time until every monitor has a
 *     result that started after t0 ("every monitor run once", goal ≤ one interval).
 *  3. Steady window (after a warm-up): for D seconds measure checks completed/s (results stored
 *     in the window), start lag (check start − scheduled_at on the server clock, recorded by each
 *     agent for every check it starts), the check's measured request time vs a direct request to
 *     the same target with a fresh connection (made by this process at 20/s), CPU of the server
 *     and the agents (/proc/<pid>/stat utime+stime) and their peak RSS (/proc/<pid>/status).
 *
 * Goals (issue 9): M=5000 at I=10 s (500 checks/s) sustained; lag p99 ≤ 100 ms; total CPU
 * (server + agents) ≤ 0.18 % of a core per check/s (half of Uptime Kuma's 55 % for 150 checks/s);
 * every monitor run once within its first interval after start.
 *
 * Flags: --monitors N (5000) --interval S (10) --duration S (120) --warmup S (5) --agents N (2)
 *        --no-build (use dist/ as it is) --keep (keep the temp dir) --json
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { MonitorsService } from '../src/gen/vantage/v1/monitors_pb.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(`--${name}`);
const num = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
};
const JSON_OUT = flag('json');
const MONITORS = num('monitors', 5000);
const INTERVAL_S = num('interval', 10);
const DURATION_S = num('duration', 120);
const WARMUP_S = num('warmup', 5);
const AGENTS = num('agents', 2);
const KEY = 'bench-key';
const CLK_TCK = 100;

function log(msg: string): void {
  if (!JSON_OUT) process.stderr.write(`${msg}\n`);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ processes

interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  tail(): string;
}

function track(name: string, child: ChildProcess): Proc {
  let tail = '';
  const keep = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  };
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { name, child, pid: child.pid ?? 0, exited, tail: () => tail };
}

async function stopProc(p: Proc, ms = 10_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), ms);
  await p.exited;
  clearTimeout(t);
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** The server's vantage_monitoring_ingest_batch_size histogram: cumulative bucket counts by `le`, plus sum and count. */
async function ingestBatches(url: string): Promise<{ le: Map<string, number>; sum: number; count: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: { 'x-api-key': KEY } })).text();
  const le = new Map<string, number>();
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    const b = /^vantage_monitoring_ingest_batch_size_bucket\{le="([^"]+)"\} (\S+)/.exec(line);
    if (b) le.set(b[1]!, Number(b[2]));
    else if (line.startsWith('vantage_monitoring_ingest_batch_size_sum ')) sum = Number(line.split(' ')[1]);
    else if (line.startsWith('vantage_monitoring_ingest_batch_size_count ')) count = Number(line.split(' ')[1]);
  }
  return { le, sum, count };
}

/** Transactions in the window and the share (%) holding 1, 2, 3-5, 6-10, 11-20 and more than 20 results. */
function batchDistribution(a: Awaited<ReturnType<typeof ingestBatches>>, b: Awaited<ReturnType<typeof ingestBatches>>) {
  const at = (le: string): number => (b.le.get(le) ?? 0) - (a.le.get(le) ?? 0);
  const n = b.count - a.count;
  const cuts = [at('1'), at('2'), at('5'), at('10'), at('20'), n];
  const shares = cuts.map((c, i) => round((100 * (c - (i === 0 ? 0 : cuts[i - 1]!))) / Math.max(1, n), 1));
  return { transactions: n, mean_results: round((b.sum - a.sum) / Math.max(1, n), 2), shares };
}

async function startServer(dir: string, keys: Record<string, unknown>): Promise<Proc & { url: string }> {
  const cfg = join(dir, 'server.json');
  const portFile = join(dir, 'port.json');
  rmSync(portFile, { force: true });
  writeFileSync(cfg, JSON.stringify(keys));
  const child = spawn(process.execPath, [join(DIST, 'cli/main.js'), 'server', '--config', cfg], {
    cwd: dir,
    env: { ...process.env, VANTAGE_PORT_FILE: portFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const p = track('server', child);
  const deadline = Date.now() + 60_000;
  while (!existsSync(portFile)) {
    if (child.exitCode !== null) throw new Error(`server exited:\n${p.tail()}`);
    if (Date.now() > deadline) throw new Error(`server did not start:\n${p.tail()}`);
    await sleep(20);
  }
  const info = JSON.parse(readFileSync(portFile, 'utf8')) as { url: string };
  return { ...p, url: info.url };
}

/** An agent process: resource reporting plus the monitoring worker, from dist/. Commands on stdin: "stats", "reset". */
const AGENT_CODE = `
import pino from 'pino';
const { runAgent } = await import(process.env.B_DIST + '/app/agent.js');
const { startMonitoringWorker } = await import(process.env.B_DIST + '/agent/worker/worker.js');
const { ClientConfigSchema } = await import(process.env.B_DIST + '/config/client.js');
import { createInterface } from 'node:readline';
const config = ClientConfigSchema.parse(JSON.parse(process.env.B_CONFIG));
const logger = pino({ level: 'warn' }, pino.destination(2));
const ac = new AbortController();
let worker = null;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (!worker) return process.stdout.write('{}\\n');
  if (line === 'reset') worker.resetLag();
  process.stdout.write(JSON.stringify(worker.stats()) + '\\n');
});
process.on('SIGTERM', () => ac.abort());
await runAgent(config, { logger, signal: ac.signal, extraServices: [(ctx) => {
  worker = startMonitoringWorker(config, { logger, clientId: ctx.clientId, hostname: ctx.hostname, lagWindow: 1000000 });
  return { stop: () => worker.stop() };
}] });
process.exit(0);
`;

interface AgentProc extends Proc {
  ask(cmd: 'stats' | 'reset'): Promise<AgentStats>;
}

interface AgentStats {
  connected: boolean;
  checksCompleted: number;
  resultsAcked: number;
  unacked: number;
  lagMs: { count: number; p50: number; p99: number; max: number };
  clockOffsetMs: number;
}

function startAgent(i: number, dir: string, serverUrl: string, workerUrl: string): AgentProc {
  const config = {
    server_url: serverUrl,
    server_key: KEY,
    worker_url: workerUrl,
    client_id: `bench-agent-${i}`,
    hostname: `bench-agent-${i}`,
    state_dir: join(dir, `agent-${i}`),
    skip_geolocation: true,
    local_ip: '127.0.0.1',
    endpoint_url: 'http://127.0.0.1:11000',
    max_concurrent_checks: 64,
  };
  const child = spawn(process.execPath, ['--input-type=module', '-e', AGENT_CODE], {
    cwd: ROOT,
    env: { ...process.env, B_DIST: DIST, B_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const p = track(`agent-${i}`, child);
  const waiting: Array<(s: AgentStats) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => waiting.shift()?.(JSON.parse(line) as AgentStats));
  return {
    ...p,
    ask(cmd) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin!.write(`${cmd}\n`);
      });
    },
  };
}

// ------------------------------------------------------------------ target

/** The check target, in its own process so this process's work never delays its answers. */
const TARGET_CODE = `
import http from 'node:http';
const body = Buffer.from('{"status":"ok"}');
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

async function startTarget(): Promise<Proc & { port: number }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', TARGET_CODE], { stdio: ['ignore', 'pipe', 'pipe'] });
  const p = track('target', child);
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(Number(l)));
    child.once('exit', () => reject(new Error(`target exited: ${p.tail()}`)));
  });
  return { ...p, port };
}

/** One request on a fresh connection, timed like the check (start → end of body). */
function directRequest(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    });
    req.on('error', reject);
  });
}

const pct = (sorted: number[], p: number): number => (sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN));
const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  if (!flag('no-build')) {
    log('building dist/ (npm run build) …');
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'ignore' });
    } catch {
      log('tsc reported errors (emitting anyway); continuing with what was built');
    }
  }
  for (const f of ['cli/main.js', 'app/agent.js', 'agent/worker/worker.js', 'config/client.js']) {
    if (!existsSync(join(DIST, f))) throw new Error(`dist/${f} is missing: run npm run build`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-mon-'));
  const target = await startTarget();
  const procsToStop: Proc[] = [target];
  const serverKeys = {
    host: '127.0.0.1',
    port: await freePort(),
    worker_port: await freePort(),
    database: join(dir, 'vantage.db'),
    server_key: KEY,
    log_level: 'warn',
  };
  const workerUrl = `http://127.0.0.1:${serverKeys.worker_port}`;
  const procs: Proc[] = [];
  try {
    // 1. setup: monitors are created while agents run them (no backlog builds up), then the
    //    agents stop gracefully (they finish what they hold) and the server stops.
    log(`setup: creating ${MONITORS} monitors at ${INTERVAL_S}s …`);
    let server = await startServer(dir, serverKeys);
    const setupAgents = Array.from({ length: AGENTS }, (_, i) => startAgent(i, dir, server.url, workerUrl));
    const client = createClient(MonitorsService, createConnectTransport({ baseUrl: server.url, httpVersion: '1.1' }));
    let next = 0;
    const t = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < MONITORS) {
          const i = next++;
          await client.createMonitor(
            {
              monitor: {
                name: `bench-${i}`,
                url: `http://127.0.0.1:${target.port}/health?m=${i}`,
                intervalMs: BigInt(INTERVAL_S * 1000),
                timeoutMs: 5000n,
                assertions: ['status == 200'],
              },
            },
            { headers: { 'x-api-key': KEY } },
          );
        }
      }),
    );
    log(`  created in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    await Promise.all(setupAgents.map((a) => stopProc(a, 20_000)));
    await stopProc(server);

    // 2. start from cold
    log(`start: server + ${AGENTS} agents …`);
    const t0 = Date.now();
    server = await startServer(dir, serverKeys);
    procs.push(server);
    const agents = Array.from({ length: AGENTS }, (_, i) => startAgent(i, dir, server.url, workerUrl));
    procs.push(...agents);
    const db = new Database(serverKeys.database, { readonly: true, fileMustExist: true });
    const ranOnce = db.prepare('SELECT COUNT(DISTINCT monitor_id) AS n FROM results_raw WHERE started_at >= ?');
    let allRunAt = NaN;
    const capMs = Math.max(60_000, INTERVAL_S * 6000);
    while (Date.now() - t0 < capMs) {
      const n = (ranOnce.get(t0) as { n: number }).n;
      if (n >= MONITORS) {
        allRunAt = Date.now();
        break;
      }
      await sleep(100);
    }
    const allRunS = (allRunAt - t0) / 1000;
    log(`  every monitor ran once after ${Number.isNaN(allRunS) ? 'NOT within the cap' : `${allRunS.toFixed(2)} s`}`);

    // 3. steady window
    await sleep(WARMUP_S * 1000);
    log(`steady window: ${DURATION_S} s …`);
    await Promise.all(agents.map((a) => a.ask('reset')));
    const batches0 = await ingestBatches(server.url);
    const cpu0 = new Map(procs.map((p) => [p.pid, cpuSeconds(p.pid)]));
    const peakRss = new Map(procs.map((p) => [p.pid, 0]));
    const ws = Date.now();
    const direct: number[] = [];
    const end = ws + DURATION_S * 1000;
    let nextDirect = ws;
    while (Date.now() < end) {
      for (const p of procs) peakRss.set(p.pid, Math.max(peakRss.get(p.pid) ?? 0, rssBytes(p.pid)));
      const tick = Date.now() + 1000;
      while (Date.now() < Math.min(tick, end)) {
        if (Date.now() >= nextDirect) {
          direct.push(await directRequest(target.port));
          nextDirect += 50;
        }
        await sleep(5);
      }
    }
    const we = Date.now();
    const cpu1 = new Map(procs.map((p) => [p.pid, cpuSeconds(p.pid)]));
    const batches = batchDistribution(batches0, await ingestBatches(server.url));
    const stats = await Promise.all(agents.map((a) => a.ask('stats')));
    const windowS = (we - ws) / 1000;

    const rows = db
      .prepare('SELECT total_ms AS t, status FROM results_raw WHERE started_at >= ? AND started_at < ?')
      .all(ws, we) as Array<{ t: number | null; status: string }>;
    const checksPerS = rows.length / windowS;
    const down = rows.filter((r) => r.status !== 'up').length;
    const totals = rows.map((r) => r.t ?? 0).sort((a, b) => a - b);
    direct.sort((a, b) => a - b);
    let dbLag: number[] = [];
    try {
      dbLag = (
        db.prepare('SELECT r.started_at - j.scheduled_at AS lag FROM results_raw r JOIN jobs j ON j.run_id = r.run_id WHERE r.started_at >= ? AND r.started_at < ?').all(ws, we) as Array<{ lag: number }>
      )
        .map((r) => r.lag)
        .sort((a, b) => a - b);
    } catch {
      dbLag = [];
    }
    db.close();

    // lag: merge per-agent quantiles weighted by count (exact merge needs the samples; agents report quantiles)
    const lagCount = stats.reduce((k, s) => k + s.lagMs.count, 0);
    const lagP50 = stats.reduce((k, s) => k + s.lagMs.p50 * s.lagMs.count, 0) / Math.max(1, lagCount);
    const lagP99 = Math.max(...stats.map((s) => s.lagMs.p99));
    const lagMax = Math.max(...stats.map((s) => s.lagMs.max));

    const serverCpu = ((cpu1.get(server.pid) ?? 0) - (cpu0.get(server.pid) ?? 0)) / windowS;
    const agentCpu = agents.map((a) => ((cpu1.get(a.pid) ?? 0) - (cpu0.get(a.pid) ?? 0)) / windowS);
    const totalCpu = serverCpu + agentCpu.reduce((a, b) => a + b, 0);
    const cpuPerCheck = (totalCpu * 100) / Math.max(1e-9, checksPerS);
    const expected = MONITORS / INTERVAL_S;

    const result = {
      config: { monitors: MONITORS, interval_s: INTERVAL_S, agents: AGENTS, duration_s: round(windowS, 1), expected_checks_per_s: expected },
      checks_per_s: round(checksPerS, 1),
      checks_in_window: rows.length,
      down_in_window: down,
      lag_ms: { p50: round(lagP50), p99: round(lagP99), max: round(lagMax), samples: lagCount, source: 'agents (start − scheduled_at, server clock)' },
      lag_ms_db: dbLag.length > 0 ? { p50: pct(dbLag, 0.5), p99: pct(dbLag, 0.99), samples: dbLag.length } : null,
      check_total_ms: { p50: round(pct(totals, 0.5), 3), p99: round(pct(totals, 0.99), 3) },
      direct_request_ms: { p50: round(pct(direct, 0.5), 3), p99: round(pct(direct, 0.99), 3), samples: direct.length },
      check_overhead_ms_p50: round(pct(totals, 0.5) - pct(direct, 0.5), 3),
      cpu_cores: { server: round(serverCpu, 3), agents: agentCpu.map((c) => round(c, 3)), total: round(totalCpu, 3) },
      cpu_pct_core_per_check_per_s: round(cpuPerCheck, 4),
      rss_mb_peak: { server: round((peakRss.get(server.pid) ?? 0) / 2 ** 20, 1), agents: agents.map((a) => round((peakRss.get(a.pid) ?? 0) / 2 ** 20, 1)) },
      all_monitors_run_once_s: Number.isNaN(allRunS) ? null : round(allRunS, 2),
      ingest_batches: batches,
      agent_clock_offset_ms: stats.map((s) => round(s.clockOffsetMs, 3)),
      goals: {
        sustained: checksPerS >= expected * 0.98,
        lag_p99_le_100ms: lagP99 <= 100,
        cpu_le_0_18_pct_per_check_per_s: cpuPerCheck <= 0.18,
        all_run_within_first_interval: !Number.isNaN(allRunS) && allRunS <= INTERVAL_S,
      },
    };

    if (JSON_OUT) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const table: Array<[string, string, string]> = [
        ['checks completed/s', `${result.checks_per_s} (expected ${expected}; ${down} down)`, `≥ ${expected}`],
        ['lag p50 / p99 / max (ms)', `${result.lag_ms.p50} / ${result.lag_ms.p99} / ${result.lag_ms.max}`, 'p99 ≤ 100'],
        ['check total_ms p50 / p99', `${result.check_total_ms.p50} / ${result.check_total_ms.p99}`, ''],
        ['direct request p50 / p99 (ms)', `${result.direct_request_ms.p50} / ${result.direct_request_ms.p99}`, ''],
        ['check overhead p50 (ms)', `${result.check_overhead_ms_p50}`, ''],
        ['CPU cores server / agents / total', `${result.cpu_cores.server} / ${result.cpu_cores.agents.join(' + ')} / ${result.cpu_cores.total}`, ''],
        ['CPU % of a core per check/s', `${result.cpu_pct_core_per_check_per_s}`, '≤ 0.18'],
        ['ingest transactions in window', `${batches.transactions} (mean ${batches.mean_results} results each)`, ''],
        ['  share holding 1 / 2 / 3-5 / 6-10 / 11-20 / >20', batches.shares.map((x) => `${x}%`).join(' / '), ''],
        ['peak RSS MB server / agents', `${result.rss_mb_peak.server} / ${result.rss_mb_peak.agents.join(' + ')}`, ''],
        ['every monitor run once (s)', `${result.all_monitors_run_once_s ?? 'no'}`, `≤ ${INTERVAL_S}`],
      ];
      const w0 = Math.max(...table.map((r) => r[0].length));
      const w1 = Math.max(...table.map((r) => r[1].length));
      process.stdout.write(`\nmonitoring e2e: ${MONITORS} monitors @ ${INTERVAL_S}s, ${AGENTS} agents, ${round(windowS, 1)} s window\n`);
      for (const [a, b, c] of table) process.stdout.write(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}\n`);
      process.stdout.write(`goals: ${JSON.stringify(result.goals)}\n`);
    }
  } finally {
    await Promise.all([...procs, ...procsToStop].map((p) => stopProc(p)));
    if (!flag('keep')) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
