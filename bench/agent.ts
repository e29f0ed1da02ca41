/**
 * Agent cost benchmark (`npm run bench:agent`; `-- --json` for one JSON object).
 *
 * 1. Micro: times one read of each resource in this process (CPU /proc/stat delta, memory
 *    /proc/meminfo, disk statfs, GPU via one nvidia-smi call and via the long-lived
 *    `nvidia-smi -lms` reader, one full sampler tick, one /stats body) — median and p99 in µs.
 * 2. Process: runs the real agent (`node dist/cli/main.js agent`, built by `npm run build`)
 *    for `--seconds` (default 120) at 1 sample/s, reporting to a local sink, next to an idle
 *    `node` process as the baseline. CPU % of one core comes from utime+stime in
 *    /proc/<pid>/stat (plus reaped children's cutime+cstime and live children such as the
 *    `nvidia-smi -lms` process); peak RSS is VmHWM from /proc/<pid>/status. The first
 *    `--warmup` seconds (default 5, startup) are excluded from the steady-state CPU figure.
 *
 * Variants run side by side: the agent under plain `node`, under `node --lite-mode` (V8 without
 * the optimising compiler: less code memory, and the agent's work is too small to need it), and,
 * on a GPU host, with the other GPU mode (one nvidia-smi call per sample vs one long-lived
 * `nvidia-smi -lms`).
 *
 * Flags: --seconds N, --warmup N, --gpu-mode exec|loop (default loop), --agent-js PATH, --skip-process,
 * --skip-micro, --json.
 * Targets (DESIGN.md): ≤ 0.5 % of one core and ≤ 60 MB RSS at 1 sample/s.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { CpuSampler } from '../src/agent/metrics/cpu.js';
import { readDisk } from '../src/agent/metrics/disk.js';
import { ExecGpuSource, LoopGpuSource } from '../src/agent/metrics/gpu.js';
import { readMemory } from '../src/agent/metrics/memory.js';
import { ResourceSampler } from '../src/agent/metrics/sampler.js';
import { SlidingWindow } from '../src/agent/metrics/window.js';
import { buildStats } from '../src/agent/reporter/payload.js';

const args = process.argv.slice(2);
const JSON_OUT = args.includes('--json');
const flag = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : def;
};
const SECONDS = Number(flag('seconds', '120'));
const WARMUP = Number(flag('warmup', '5'));
const GPU_MODE = flag('gpu-mode', 'loop') as 'exec' | 'loop';
/** The agent's entry (`node <it> agent --flags…`); default dist/cli/main.js. */
const MAIN = flag('agent-js', fileURLToPath(new URL('../dist/cli/main.js', import.meta.url)));
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function log(msg: string): void {
  if (!JSON_OUT) process.stderr.write(`${msg}\n`);
}

function hasNvidiaSmi(): boolean {
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

// ---------- micro ----------
interface MicroRow {
  resource: string;
  median_us: number;
  p99_us: number;
  samples: number;
  note?: string;
}

async function time(resource: string, n: number, fn: () => Promise<unknown>, note?: string): Promise<MicroRow> {
  for (let i = 0; i < Math.min(20, n); i++) await fn(); // warm up JIT and caches
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    await fn();
    t[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  t.sort();
  const row: MicroRow = {
    resource,
    median_us: Math.round((t[Math.floor(n / 2)] ?? 0) * 10) / 10,
    p99_us: Math.round((t[Math.min(n - 1, Math.floor(n * 0.99))] ?? 0) * 10) / 10,
    samples: n,
  };
  if (note !== undefined) row.note = note;
  return row;
}

async function micro(gpuPresent: boolean): Promise<MicroRow[]> {
  const logger = pino({ level: 'silent' });
  const rows: MicroRow[] = [];
  const cpu = new CpuSampler();
  await cpu.sample();
  rows.push(await time('cpu (/proc/stat + per-core delta)', 2000, () => cpu.sample()));
  rows.push(await time('memory (/proc/meminfo)', 2000, () => readMemory()));
  rows.push(await time('disk (statfs /)', 2000, () => readDisk('/')));
  let loop: LoopGpuSource | null = null;
  if (gpuPresent) {
    const exec = new ExecGpuSource({ intervalMs: 1000, retryMs: 300_000, logger });
    rows.push(await time('gpu, exec: one nvidia-smi call', 30, () => exec.read(), 'wall time; CPU is spent in the child'));
    loop = new LoopGpuSource({ intervalMs: 1000, retryMs: 300_000, logger });
    await loop.read();
    const l = loop;
    rows.push(await time('gpu, loop: read latest from nvidia-smi -lms', 2000, () => l.read(), 'the child samples in the background'));
  } else {
    rows.push({ resource: 'gpu', median_us: Number.NaN, p99_us: Number.NaN, samples: 0, note: 'no nvidia-smi on this machine' });
  }
  const window = new SlidingWindow({ windowMs: 15 * 60_000, intervalMs: 1000 });
  const sampler = new ResourceSampler({
    cpu: new CpuSampler(),
    readMemory: () => readMemory(),
    readDisk: () => readDisk('/'),
    gpu: loop,
    window,
    logger,
    now: Date.now,
  });
  // Fill the 15-minute window so the report is built over a full ring.
  rows.push(await time('full tick (all resources + window push)', 1000, () => sampler.tick()));
  const id = { clientId: 'bench', hostname: 'bench', localIp: '127.0.0.1', publicIp: '', endpointUrl: 'http://127.0.0.1:11000' };
  const loc = { latitude: null, longitude: null, country: '', city: '', publicIp: '', source: 'none' as const };
  rows.push(await time('/stats body from a full window', 2000, async () => buildStats(window, sampler.latest, id, loc, Date.now())));
  loop?.stop();
  return rows;
}

// ---------- process ----------
function procTicks(pid: number, withReaped: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields after "(comm) ": state=0 … utime=11 stime=12 cutime=13 cstime=14
    const t = Number(f[11]) + Number(f[12]);
    return withReaped ? t + Number(f[13]) + Number(f[14]) : t;
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** CPU ticks of a process, its reaped children, and its live children. */
function treeTicks(pid: number): { self: number; kids: number } {
  return { self: procTicks(pid, true), kids: children(pid).reduce((a, c) => a + procTicks(c, true), 0) };
}

interface ProcRow {
  process: string;
  seconds: number;
  cpu_pct_steady: number;
  cpu_pct_incl_startup: number;
  children_cpu_pct: number;
  peak_rss_mb: number;
  end_rss_mb: number;
  children_peak_rss_mb: number;
  reports: number;
}

async function runProcess(label: string, child: ChildProcess, reports: () => number): Promise<ProcRow> {
  const pid = child.pid as number;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, WARMUP * 1000));
  const a = treeTicks(pid);
  const ta = Date.now();
  let childHwm = 0;
  const end = ta + SECONDS * 1000;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(5000, end - Date.now())));
    for (const c of children(pid)) childHwm = Math.max(childHwm, statusKb(c, 'VmHWM'));
  }
  const b = treeTicks(pid);
  const tb = Date.now();
  const hwm = statusKb(pid, 'VmHWM');
  const rssEnd = statusKb(pid, 'VmRSS');
  const total = procTicks(pid, true);
  const pct = (ticks: number, ms: number): number => Math.round(((ticks / CLK_TCK) / (ms / 1000)) * 100 * 1000) / 1000;
  return {
    process: label,
    seconds: Math.round((tb - ta) / 1000),
    cpu_pct_steady: pct(b.self - a.self + (b.kids - a.kids), tb - ta),
    cpu_pct_incl_startup: pct(total + b.kids, tb - t0),
    children_cpu_pct: pct(b.kids - a.kids, tb - ta),
    peak_rss_mb: Math.round((hwm / 1024) * 10) / 10,
    end_rss_mb: Math.round((rssEnd / 1024) * 10) / 10,
    children_peak_rss_mb: Math.round((childHwm / 1024) * 10) / 10,
    reports: reports(),
  };
}

interface Variant {
  label: string;
  nodeFlags: string[];
  gpuMode: 'exec' | 'loop';
}

async function processBench(gpuPresent: boolean): Promise<ProcRow[]> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} not found: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-agent-'));
  const stats = new Map<string, number>();
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/stats') {
        const host = (JSON.parse(Buffer.concat(chunks).toString()) as { hostname: string }).hostname;
        stats.set(host, (stats.get(host) ?? 0) + 1);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(req.url === '/register' ? '{"status":"registered"}' : '{"status":"ok"}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const variants: Variant[] = [
    { label: `agent (node, gpu ${GPU_MODE})`, nodeFlags: [], gpuMode: GPU_MODE },
    { label: `agent (node --lite-mode, gpu ${GPU_MODE})`, nodeFlags: ['--lite-mode'], gpuMode: GPU_MODE },
  ];
  if (gpuPresent) {
    const other = GPU_MODE === 'loop' ? 'exec' : 'loop';
    variants.push({ label: `agent (node, gpu ${other})`, nodeFlags: [], gpuMode: other });
  }
  const procs = variants.map((v, i) => ({
    v,
    host: `bench-${i}`,
    child: spawn(
      process.execPath,
      [...v.nodeFlags, MAIN, 'agent', '--server-url', url, '--state-dir', join(dir, String(i)), '--hostname', `bench-${i}`, '--skip-geolocation', 'true', '--monitoring-enabled', 'false', '--log-level', 'warn'],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, VANTAGE_AGENT_GPU_MODE: v.gpuMode } },
    ),
  }));
  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    log(`running ${procs.length} agent variants and an idle node for ${WARMUP}+${SECONDS} s…`);
    return await Promise.all([
      ...procs.map((p) => runProcess(p.v.label, p.child, () => stats.get(p.host) ?? 0)),
      runProcess('idle node (baseline)', idle, () => 0),
    ]);
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    idle.kill('SIGTERM');
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function table<T extends object>(rows: T[]): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0] as object);
  const cells = rows.map((r) => cols.map((c) => String((r as Record<string, unknown>)[c] ?? '')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

const gpuPresent = hasNvidiaSmi();
const result: { gpu_present: boolean; clk_tck: number; micro?: MicroRow[]; process?: ProcRow[]; targets: Record<string, string> } = {
  gpu_present: gpuPresent,
  clk_tck: CLK_TCK,
  targets: { cpu_pct: '≤ 0.5 % of one core', peak_rss_mb: '≤ 60 MB' },
};
if (!args.includes('--skip-micro')) {
  log('timing one sample per resource…');
  result.micro = await micro(gpuPresent);
}
if (!args.includes('--skip-process')) result.process = await processBench(gpuPresent);

if (JSON_OUT) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  if (result.micro) process.stdout.write(`\nOne sample per resource (µs)\n${table(result.micro)}\n`);
  if (result.process) process.stdout.write(`\nAgent process at 1 sample/s (CPU % of one core; peak RSS = VmHWM, end RSS = VmRSS at the end)\n${table(result.process)}\n`);
}
