/**
 * HTTP API benchmark (`npm run bench:api`, `-- --json` for one JSON object).
 *
 * Measures, with autocannon over keep-alive HTTP on loopback, in one run:
 *  - a bare node:http handler answering a fixed JSON body (the baseline);
 *  - POST /route of a real `vantage server` process with 100 registered backends;
 *  - POST /stats ingestion (validated, applied to the fleet, written behind to SQLite) on the same server.
 * Target: /route requests/s ≥ 0.5 × the bare handler's (i.e. not slower than 2×).
 *
 * The server runs from source (node --import tsx src/cli/main.ts server) in its own process with a temporary
 * SQLite file; rate limiting is set out of reach and health checks/monitoring are off so only the API is
 * measured. The /route case uses a "bench" tier that needs no resources: every request reserves, and with a
 * real tier a few thousand requests would exhaust the fleet and turn the measurement into one of 503s.
 * Reservations keep the default 120 s expiry (a few hundred thousand pile up during a run; an expiry of 1 s
 * would instead measure the engine's expiry churn and the garbage collector).
 *
 * Options: --json, --duration <s> (default 5), --connections <n> (default 32), --backends <n> (default 100),
 * --server-entry <file.js> (run the server from a built/bundled entry instead of the sources through tsx),
 * --server-cpu-prof <dir> (write a V8 CPU profile of the server process there),
 * --rounds <n> (saturated bare and /route alternately n times; the median round's ratio is reported),
 * --rate <n> (the fixed request rate of the equal-load rows, default 5000; --no-rate skips them),
 * --auth (the server requires an API key and every request sends one),
 * --no-stats (skip the /stats case, e.g. to profile /route alone), --pin (Linux, needs `taskset`: the load generator runs on CPU 0 and each server on the last CPU, so that on a
 * small machine the two do not compete for one core; each server is then measured at one core's capacity),
 * --side-by-side (after the alternating rounds, as many rounds with both servers loaded at the same time:
 * with --pin they then share one CPU, so a noisy machine slows both alike, and each round's ratio of server CPU
 * per request compares the handlers' cost under the same conditions; reported next to the verdict, which
 * stays the alternating rounds' median).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { REPO, cliArgs, cpuMicros, postJson, spawnChild, spawnScriptServer, waitFor } from './lib.js';

/** The part of autocannon's API used here (the package ships no types). */
interface CannonOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  duration?: number;
  overallRate?: number;
  requests?: Array<{ method?: string; headers?: Record<string, string>; setupRequest?: (req: Record<string, unknown>) => Record<string, unknown> }>;
}
interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: CannonOptions) => Promise<CannonResult>;

const { args, flag, opt } = cliArgs();
const JSON_OUT = flag('json');
const DURATION = opt('duration', 5);
const CONNECTIONS = opt('connections', 32);
const BACKENDS = opt('backends', 100);
const SERVER_PROF = args.includes('--server-cpu-prof') ? resolve(args[args.indexOf('--server-cpu-prof') + 1] ?? '') : undefined;
const PIN = flag('pin');
const NO_STATS = flag('no-stats');
const RATE = flag('no-rate') ? 0 : opt('rate', 5000);
const ROUNDS = Math.max(1, opt('rounds', 1));
const SIDE_BY_SIDE = flag('side-by-side');
const SERVER_ENTRY = args.includes('--server-entry') ? resolve(args[args.indexOf('--server-entry') + 1] ?? '') : undefined;

const log = (msg: string) => {
  if (!JSON_OUT) process.stderr.write(`${msg}\n`);
};



const BARE = `
const http = require('node:http');
const body = JSON.stringify({ client_id: 'backend-042', endpoint: 'http://10.0.0.42:11000', hostname: 'backend-042', reservation_id: 'abcdef012345-1', tier: 'bench', sticky: false });
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
s.listen(0, '127.0.0.1', () => require('node:fs').writeFileSync(process.env.PORT_FILE, String(s.address().port)));
`;

/** With --pin: moves a process (all its threads) onto one CPU. */
function pin(pid: number | undefined, cpu: number): void {
  if (!PIN || pid === undefined) return;
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}
const SERVER_CPU = availableParallelism() - 1;

/** With --auth the server requires API keys and every request carries one (the keyed production set-up). */
const AUTH = flag('auth');
const KEY_HEADERS: Record<string, string> = AUTH ? { 'x-api-key': 'bench-api-key' } : {};
const post = (base: string, path: string, body: unknown): Promise<void> => postJson(base, path, body, KEY_HEADERS);

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function rnd(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function statsFor(id: string, r: () => number): Record<string, unknown> {
  const cores = 8 + Math.floor(r() * 56);
  const mem = 32 + Math.floor(r() * 480);
  const used = mem * (0.1 + r() * 0.8);
  const disk = 500 + Math.floor(r() * 3500);
  const dused = disk * (0.05 + r() * 0.6);
  return {
    client_id: id,
    hostname: id,
    timestamp: new Date().toISOString(),
    cpu_cores: cores,
    cpu_usage_avg: Array.from({ length: cores }, () => Math.round(r() * 10000) / 100),
    memory_total_gb: mem,
    memory_used_gb: used,
    memory_avail_gb: mem - used,
    disk_total_gb: disk,
    disk_used_gb: dused,
    disk_avail_gb: disk - dused,
  };
}

interface Row {
  case: string;
  requests_per_s: number;
  /** CPU time (user+system) the serving process spent per request during the measured run. */
  server_cpu_us_per_req: number | null;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
  errors: number;
  total: number;
}


async function cannon(name: string, opts: CannonOptions, pid: number | undefined, warm = true): Promise<Row> {
  // Short warm-up (JIT, connection setup), then the measured run.
  if (warm) await autocannon({ ...opts, duration: 1 });
  const cpu0 = cpuMicros(pid);
  const r = await autocannon({ ...opts, duration: DURATION });
  const cpu1 = cpuMicros(pid);
  const row: Row = {
    case: name,
    requests_per_s: Math.round(r.requests.average),
    server_cpu_us_per_req: cpu0 !== null && cpu1 !== null && r.requests.total > 0 ? Math.round(((cpu1 - cpu0) / r.requests.total) * 10) / 10 : null,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    non_2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    total: r.requests.total,
  };
  log(`  ${name}: ${row.requests_per_s} req/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, server CPU ${row.server_cpu_us_per_req} µs/req, non-2xx ${row.non_2xx}`);
  return row;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-api-'));
  const children: ChildProcess[] = [];
  try {
    // Bare baseline.
    const bare = await spawnScriptServer(BARE, dir, 'the bare server');
    children.push(bare.proc);
    pin(bare.proc.pid, SERVER_CPU);
    const barePort = bare.port;

    // Vantage server.
    const cfg = join(dir, 'server.yml');
    writeFileSync(
      cfg,
      [
        'host: 127.0.0.1',
        'port: 0',
        `database: ${join(dir, 'vantage.db')}`,
        'log_level: warn',
        'json_logging: true',
        'monitoring_enabled: false',
        'health_check_enabled: false',
        'rate_limit_per_minute: 1000000000',
        'rate_limit_burst: 1000000000',
        ...(AUTH ? ['api_keys: [bench-api-key]'] : []),
        'tiers:',
        '  - { name: bench, vcpu: 0, memory_gb: 0, storage_gb: 0 }',
        '  - { name: small, vcpu: 1, memory_gb: 1, storage_gb: 5 }',
      ].join('\n'),
    );
    const portFile = join(dir, 'vantage.port');
    const prof = SERVER_PROF ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', SERVER_PROF] : [];
    const entry = [...prof, ...(SERVER_ENTRY ? [SERVER_ENTRY] : ['--import', 'tsx', join(REPO, 'src/cli/main.ts')])];
    const srv = spawnChild([...entry, 'server', '--config', cfg], { VANTAGE_PORT_FILE: portFile });
    children.push(srv.proc);
    pin(srv.proc.pid, SERVER_CPU);
    const info = await waitFor(() => {
      if (srv.proc.exitCode !== null) throw new Error(`server exited:\n${srv.output()}`);
      return existsSync(portFile) ? (JSON.parse(readFileSync(portFile, 'utf8')) as { url: string }) : null;
    }, 'the vantage server');
    const base = info.url;

    const r = rnd(42);
    const ids: string[] = [];
    for (let i = 0; i < BACKENDS; i++) {
      const id = `backend-${String(i).padStart(3, '0')}`;
      ids.push(id);
      await post(base, '/register', {
        client_id: id,
        hostname: id,
        total_cpu: 64,
        total_memory_gb: 512,
        total_storage_gb: 4000,
        endpoint_url: `http://10.0.${Math.floor(i / 250)}.${i % 250}:11000`,
        latitude: -60 + r() * 120,
        longitude: -180 + r() * 360,
      });
      await post(base, '/stats', statsFor(id, r));
    }
    log(`registered ${BACKENDS} backends; ${CONNECTIONS} connections, ${DURATION} s per case`);

    const json = { 'content-type': 'application/json', ...KEY_HEADERS };
    const rows: Row[] = [];
    // Warm-up of both servers at full load before anything is measured, so that no row measures the JIT
    // compiling the server's code (with --pin the compiler threads share the server's CPU, and the /route path
    // has far more code to compile than the bare handler).
    for (const url of [`http://127.0.0.1:${barePort}/route`, `${base}/route`]) {
      await autocannon({ url, method: 'POST', headers: json, body: '{"tier":"bench"}', connections: CONNECTIONS, duration: 3 });
    }
    // Bare and /route at one fixed rate well below either's capacity, first (while the server holds few
    // reservations): both then idle between requests alike, so the server CPU per request compares the
    // handlers' own cost without the load generator's influence.
    if (RATE > 0) {
      for (const [name, url, pid] of [
        [`bare node:http @ ${RATE} req/s`, `http://127.0.0.1:${barePort}/route`, bare.proc.pid],
        [`POST /route @ ${RATE} req/s`, `${base}/route`, srv.proc.pid],
      ] as const) {
        rows.push(await cannon(name, { url, method: 'POST', headers: json, body: '{"tier":"bench"}', connections: CONNECTIONS, overallRate: RATE }, pid));
      }
    }
    // Saturated: bare then /route, ROUNDS times in turn; each round gives one ratio (a noisy machine moves
    // both between rounds, so the ratio is taken within a round and the median round reported).
    const roundRatios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const suffix = ROUNDS > 1 ? ` [round ${round}]` : '';
      const b = await cannon(`bare node:http, fixed JSON${suffix}`, { url: `http://127.0.0.1:${barePort}/route`, method: 'POST', headers: json, body: '{"tier":"bench"}', connections: CONNECTIONS }, bare.proc.pid);
      const r = await cannon(`POST /route (${BACKENDS} backends)${suffix}`, { url: `${base}/route`, method: 'POST', headers: json, body: '{"tier":"bench"}', connections: CONNECTIONS }, srv.proc.pid);
      rows.push(b, r);
      roundRatios.push(r.requests_per_s / b.requests_per_s);
    }
    // Side by side: both saturated at once (sharing the server CPU with --pin); the ratio of their server CPU
    // per request, round by round.
    const sideBySide: Array<{ throughput: number; cpu: number | null }> = [];
    for (let round = 1; SIDE_BY_SIDE && round <= ROUNDS; round++) {
      const [b, r] = await Promise.all([
        cannon(`bare node:http, fixed JSON [side by side ${round}]`, { url: `http://127.0.0.1:${barePort}/route`, method: 'POST', headers: json, body: '{"tier":"bench"}', connections: CONNECTIONS }, bare.proc.pid, false),
        cannon(`POST /route (${BACKENDS} backends) [side by side ${round}]`, { url: `${base}/route`, method: 'POST', headers: json, body: '{"tier":"bench"}', connections: CONNECTIONS }, srv.proc.pid, false),
      ]);
      rows.push(b, r);
      const bc = b.server_cpu_us_per_req;
      const rc = r.server_cpu_us_per_req;
      sideBySide.push({ throughput: r.requests_per_s / b.requests_per_s, cpu: bc !== null && rc !== null && bc > 0 ? rc / bc : null });
    }
    if (!NO_STATS) {
      const statsBodies = ids.map((id) => JSON.stringify(statsFor(id, r)));
      rows.push(
        await cannon(`POST /stats (${BACKENDS} backends)`, {
          url: `${base}/stats`,
          connections: CONNECTIONS,
          requests: [
            {
              method: 'POST',
              headers: json,
              setupRequest: (req: Record<string, unknown>) => ({ ...req, body: statsBodies[Math.floor(Math.random() * statsBodies.length)] }),
            },
          ],
        }, srv.proc.pid),
      );
    }

    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const ratio = median(roundRatios);
    const sbsCpu = sideBySide.flatMap((x) => (x.cpu === null ? [] : [x.cpu]));
    const sbs =
      sideBySide.length === 0
        ? null
        : { throughput: median(sideBySide.map((x) => x.throughput)), cpu: sbsCpu.length > 0 ? median(sbsCpu) : null };
    const routeNon2xx = rows.filter((x) => x.case.startsWith('POST /route') && !x.case.includes(' @ ')).reduce((n, x) => n + x.non_2xx, 0);
    const target = { route_vs_bare_min: 0.5, met: ratio >= 0.5 && routeNon2xx === 0 };
    const cpuAt = (name: string) => rows.find((x) => x.case.startsWith(name) && x.case.includes(' @ '))?.server_cpu_us_per_req ?? null;
    const bareCpu = cpuAt('bare');
    const routeCpu = cpuAt('POST /route');
    const cpuRatio = bareCpu !== null && routeCpu !== null && bareCpu > 0 ? Math.round((routeCpu / bareCpu) * 100) / 100 : null;
    if (JSON_OUT) {
      process.stdout.write(`${JSON.stringify({ backends: BACKENDS, connections: CONNECTIONS, duration_s: DURATION, results: rows, route_vs_bare: Math.round(ratio * 1000) / 1000, route_vs_bare_rounds: roundRatios.map((x) => Math.round(x * 1000) / 1000), route_cpu_vs_bare_at_equal_rate: cpuRatio, side_by_side: sbs === null ? null : { route_vs_bare: round3(sbs.throughput), route_cpu_vs_bare: sbs.cpu === null ? null : round3(sbs.cpu), rounds: sideBySide.map((x) => ({ route_vs_bare: round3(x.throughput), route_cpu_vs_bare: x.cpu === null ? null : round3(x.cpu) })) }, target })}\n`);
    } else {
      const head = ['case', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'non-2xx', 'errors'];
      const table = rows.map((x) => [x.case, String(x.requests_per_s), String(x.p50_ms), String(x.p99_ms), String(x.server_cpu_us_per_req ?? 'n/a'), String(x.non_2xx), String(x.errors)]);
      const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
      const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
      process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${table.map(line).join('\n')}\n`);
      process.stdout.write(
        `\n/route vs bare: ${(ratio * 100).toFixed(1)} % of the bare handler's throughput${ROUNDS > 1 ? ` (median of ${ROUNDS} rounds: ${roundRatios.map((x) => `${(x * 100).toFixed(1)} %`).join(', ')})` : ''} (target ≥ 50 %): ${target.met ? 'met' : 'NOT met'}\n` +
          (cpuRatio !== null ? `At ${RATE} req/s each: /route costs ${cpuRatio}× the bare handler's server CPU per request.\n` : '') +
          (sbs !== null
            ? `Side by side (both loaded at once, median of ${sideBySide.length} rounds): /route ${(sbs.throughput * 100).toFixed(1)} % of the bare handler's throughput` +
              (sbs.cpu !== null ? `, ${sbs.cpu.toFixed(2)}× its server CPU per request (rounds: ${sbsCpu.map((x) => `${x.toFixed(2)}×`).join(', ')})` : '') +
              '.\n'
            : '') +
          'On a shared or small machine the load generator competes with the server: compare server CPU µs/req too.\n',
      );
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:api failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
