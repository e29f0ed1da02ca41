/**
 * Reverse-proxy benchmark (`npm run bench:proxy`, `-- --json` for one JSON object).
 *
 * One run, one loopback backend (a minimal node:http server answering 1 KB), one load tool (autocannon,
 * 100 keep-alive connections), each target in its own single-threaded process, measured side by side:
 *   direct              the backend itself (the ceiling)
 *   vantage             the full Vantage server (startServer: dispatcher, proxied-traffic front with security
 *                       headers and rate limit, routing engine pick + reserve + release per request, undici pool)
 *   vantage-handler     the proxy handler alone on a bare node:http server (same engine), for attribution
 *   fastify-http-proxy  fastify + @fastify/http-proxy (undici)
 *   http-proxy          node-http-proxy with a keep-alive agent
 *   nginx               nginx, worker_processes 1, upstream keepalive (installed with apt-get when missing and
 *                       root; skipped with a message otherwise)
 * For each: req/s and p50/p99 latency under load (autocannon; its histogram has 1 ms resolution), then latency
 * at moderate load measured here with hrtime (4 closed-loop keep-alive connections, µs resolution, alternating
 * direct and proxied requests so both see the same machine load), and the p50 added over direct. CPU time of each
 * target process per request (from /proc) is reported too: it is what other load on the machine distorts least. Goals: vantage ≥ 1.2× the best Node proxy library's req/s, ≥ 0.5× nginx, p50 added ≤ 0.3 ms.
 *
 * Options: --json, --duration S (default 10), --warmup S (2), --connections N (100), --latency-seconds S (4),
 * --only a,b (targets), --no-nginx, --profile [vantage|vantage-handler] (CPU profile of that process: top
 * functions printed, .cpuprofile kept under bench/results/).
 * Internal: --role backend|vantage|vantage-handler|fastify|http-proxy (child processes).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RoutingEngine } from '../src/lb/routing/engine.js';

/** The part of autocannon's API used here (the package ships no types). */
interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
}) => Promise<CannonResult>;

const SELF = fileURLToPath(import.meta.url);
const REPO = join(SELF, '..', '..');
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
};

const BODY = Buffer.alloc(1024, 'x');

// ── child roles ────────────────────────────────────────────────────────────────────────────────────────────

function ready(server: Server): void {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
}

function onTerm(fn: () => Promise<void> | void): void {
  const stop = async () => {
    try {
      await fn();
    } finally {
      process.exit(0); // lets --cpu-prof write its profile
    }
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

async function roleBackend(): Promise<void> {
  const server = createServer({ keepAliveTimeout: 65_000 }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
    res.end(BODY);
  });
  server.listen(0, '127.0.0.1', () => ready(server));
  onTerm(() => void server.close());
}

async function registerBench(engine: RoutingEngine, backend: string): Promise<void> {
  // Every in-flight request holds a reservation of the default tier (small: 1 vCPU, 1 GB, 5 GB) until its response
  // ends, so the backend must have room for all 100 concurrent requests: 256 idle cores, 500 GB RAM, 4 TB disk.
  engine.register({ clientId: 'bench', hostname: 'bench', endpoint: backend, lat: null, lon: null, totalCpu: 256, totalMemoryGb: 512, totalStorageGb: 4096, totalGpus: 0, gpuModels: [] });
  const stats = () => ({
    timestamp: Date.now(),
    cpuUsage: new Array<number>(256).fill(5),
    memoryTotalGb: 512,
    memoryUsedGb: 12,
    memoryAvailGb: 500,
    diskTotalGb: 4096,
    diskUsedGb: 96,
    diskAvailGb: 4000,
    gpus: [],
  });
  engine.reportStats('bench', stats());
  setInterval(() => engine.reportStats('bench', stats()), 60_000).unref();
}

async function roleVantage(backend: string): Promise<void> {
  const { loadServerConfig } = await import('../src/config/load.js');
  const { startServer } = await import('../src/app/server.js');
  const pino = (await import('pino')).default;
  const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-proxy-'));
  const config = loadServerConfig({
    flags: {
      port: 0,
      host: '127.0.0.1',
      database: join(dir, 'bench.db'),
      monitoring_enabled: false,
      proxy_endpoints: ['/*'],
      rate_limit_per_minute: 1_000_000_000,
      rate_limit_burst: 1_000_000_000,
      request_timeout_seconds: 60,
    },
  }).config;
  const s = await startServer(config, { logger: pino({ level: 'warn' }) });
  await registerBench(s.engine, backend);
  ready(s.httpServer);
  onTerm(async () => {
    await s.close({ timeoutMs: 500 });
    rmSync(dir, { recursive: true, force: true });
  });
}

async function roleVantageHandler(backend: string): Promise<void> {
  const { RoutingEngine } = await import('../src/lb/routing/engine.js');
  const { DEFAULT_TIERS } = await import('../src/config/tiers.js');
  const { createProxyWithSettings } = await import('../src/lb/proxy/index.js');
  const engine = new RoutingEngine({ tiers: DEFAULT_TIERS, staleMinutes: 5, pendingTimeoutSeconds: 120, stickyAffinity: true, healthCheckEnabled: true });
  await registerBench(engine, backend);
  const proxy = createProxyWithSettings(
    {
      prefixes: ['/*'],
      tierField: 'tier',
      tierHeader: 'x-tier',
      stickyHeader: '',
      stickyByIp: false,
      maxBodyBytes: 10 * 1024 * 1024,
      timeoutMs: 60_000,
      sseFlushIntervalMs: -1,
      backendHeader: false,
      outlierThreshold: 5,
      healthEnabled: true,
      tlsInsecureSkipVerify: false,
      retryAfterSeconds: 5,
      idleTimeoutMs: 120_000,
      halfCloseTimeoutMs: 5_000,
    },
    { engine },
  );
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => proxy.handle(req, res));
  server.listen(0, '127.0.0.1', () => ready(server));
  onTerm(async () => {
    await proxy.close();
    server.close();
  });
}

async function roleFastify(backend: string): Promise<void> {
  const Fastify = (await import('fastify')).default;
  const proxy = (await import('@fastify/http-proxy')).default;
  const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
  await app.register(proxy, { upstream: backend, prefix: '/' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  ready(app.server);
  onTerm(() => app.close());
}

async function roleHttpProxy(backend: string): Promise<void> {
  const httpProxy = (await import('http-proxy')).default;
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 1024 });
  const p = httpProxy.createProxyServer({ target: backend, agent, xfwd: true });
  p.on('error', (_err, _req, res) => {
    const r = res as ServerResponse;
    if (!r.headersSent) r.writeHead(502);
    r.end();
  });
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => p.web(req, res));
  server.listen(0, '127.0.0.1', () => ready(server));
  onTerm(() => void server.close());
}

// ── parent: orchestration ──────────────────────────────────────────────────────────────────────────────────

interface Proc {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

function startRole(role: string, extra: string[] = [], nodeFlags: string[] = []): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', SELF, '--role', role, ...extra], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        child.stdout!.off('data', onData);
        const { port } = JSON.parse(buf.slice(0, nl)) as { port: number };
        resolve({
          port,
          child,
          stop: () =>
            new Promise<void>((r) => {
              if (child.exitCode !== null) return r();
              const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
              child.once('exit', () => (clearTimeout(t), r()));
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${role} exited early (${code})`)));
  });
}

function nginxBinary(): string | null {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (existsSync(p)) return p;
  const w = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return w.status === 0 && w.stdout.trim() ? w.stdout.trim() : null;
}

function ensureNginx(say: (m: string) => void): string | null {
  let bin = nginxBinary();
  if (bin) return bin;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    say('nginx: not installed and cannot install it here (needs root and apt-get): skipped. Install the Debian package "nginx" to include it.');
    return null;
  }
  say('nginx: not installed; installing the Debian package "nginx-light" (or "nginx") with apt-get …');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const opts = { stdio: 'ignore' as const, env, timeout: 300_000 };
  let r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'nginx-light'], opts);
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], opts);
    r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'nginx-light'], opts);
    if (r.status !== 0) r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'nginx'], opts);
  }
  bin = nginxBinary();
  if (!bin) say('nginx: apt-get could not install it (no package mirror reachable?): skipped.');
  return bin;
}

async function startNginx(bin: string, backendPort: number): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-nginx-'));
  const port = await freePort();
  const conf = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 256; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start (see ${dir}/error.log)`);
    await sleep(50);
  }
  return {
    port,
    child,
    stop: () =>
      new Promise<void>((r) => {
        child.once('exit', () => (rmSync(dir, { recursive: true, force: true }), r()));
        child.kill('SIGQUIT');
      }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process (all its threads) and its direct children, in ms (Linux /proc; null elsewhere). */
function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return null;
  const ticks = (p: number | string): { ppid: number; t: number } | null => {
    try {
      const st = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(f[1]), t: Number(f[11]) + Number(f[12]) };
    } catch {
      return null;
    }
  };
  let total = ticks(pid)?.t ?? 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = ticks(d);
    if (s && s.ppid === pid) total += s.t;
  }
  return (total * 1000) / 100; // USER_HZ is 100 on Linux
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

interface LoadResult {
  rps: number;
  total: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non2xx: number;
}

async function autocannonRun(port: number, seconds: number, connections: number): Promise<LoadResult> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/bench/item?id=1`, connections, duration: seconds, pipelining: 1 });
  return { rps: r.requests.average, total: r.requests.total, p50_ms: r.latency.p50, p99_ms: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

/**
 * Closed-loop latency at moderate load, in µs (hrtime): `conns` keep-alive connections to the target and as many to
 * the backend directly, each loop alternating one direct and one proxied request, so that both are measured in the
 * same moments (other load on the machine shifts both alike). added = p50(proxied) − p50(direct).
 */
async function latencyProbe(
  port: number,
  directPort: number,
  seconds: number,
  conns: number,
): Promise<{ p50_us: number; p99_us: number; direct_p50_us: number; added_p50_us: number; n: number }> {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: conns });
  const directAgent = new HttpAgent({ keepAlive: true, maxSockets: conns });
  const samples: number[] = [];
  const direct: number[] = [];
  const end = Date.now() + seconds * 1000;
  const one = (p: number, a: HttpAgent, into: number[]) =>
    new Promise<void>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = httpRequest({ host: '127.0.0.1', port: p, path: '/bench/item?id=1', agent: a }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          into.push(Number(process.hrtime.bigint() - t0) / 1000);
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  const loop = async () => {
    while (Date.now() < end) {
      await one(directPort, directAgent, direct);
      await one(port, agent, samples);
    }
  };
  await Promise.all(Array.from({ length: conns }, loop));
  agent.destroy();
  directAgent.destroy();
  const pct = (xs: number[], q: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  };
  const p50 = pct(samples, 0.5);
  const d50 = pct(direct, 0.5);
  return { p50_us: round(p50), p99_us: round(pct(samples, 0.99)), direct_p50_us: round(d50), added_p50_us: round(p50 - d50), n: samples.length };
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

interface Row extends LoadResult {
  target: string;
  /** CPU time of the proxy process per request under load (µs); robust to other load on the machine. */
  cpu_us_per_req: number | null;
  moderate_p50_us: number;
  moderate_p99_us: number;
  added_p50_us: number | null;
}

/** Top self-time functions of a .cpuprofile. */
function summarizeProfile(file: string, top = 20): Array<{ fn: string; self_pct: number }> {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  };
  const by = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(REPO + '/', '');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url.split('/').slice(-3).join('/')}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
    by.set(key, (by.get(key) ?? 0) + hits);
  }
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, hits]) => ({ fn, self_pct: round((100 * hits) / Math.max(1, total)) }));
}

async function main(): Promise<void> {
  const JSON_OUT = flag('json');
  const say = (m: string) => {
    if (!JSON_OUT) process.stderr.write(m + '\n');
  };
  const duration = Number(opt('duration', '10'));
  const warmup = Number(opt('warmup', '2'));
  const connections = Number(opt('connections', '100'));
  const latencySeconds = Number(opt('latency-seconds', '4'));
  const latencyConns = 4;
  const only = opt('only', '').split(',').filter(Boolean);
  const profile = flag('profile');
  const profileArg = opt('profile', 'vantage');
  const profileTarget = profileArg.startsWith('--') ? 'vantage' : profileArg;
  const profFlags = (target: string): string[] => {
    if (!profile || target !== profileTarget) return [];
    mkdirSync(profileDir, { recursive: true });
    return ['--cpu-prof', '--cpu-prof-dir', profileDir];
  };
  const want = (t: string) => only.length === 0 || only.includes(t);
  const profileDir = join(REPO, 'bench/results', `proxy-profile-${new Date().toISOString().replace(/[:.]/g, '-')}`);

  const backend = await startRole('backend');
  const backendUrl = `http://127.0.0.1:${backend.port}`;
  say(`backend on ${backendUrl} (1 KB answers); autocannon ${connections} connections, ${duration} s (+${warmup} s warm-up) per target`);
  const targets: Array<{ name: string; start: () => Promise<Proc | null> }> = [
    { name: 'direct', start: async () => ({ ...backend, stop: async () => {} }) },
    { name: 'vantage', start: () => startRole('vantage', ['--backend', backendUrl], profFlags('vantage')) },
    { name: 'vantage-handler', start: () => startRole('vantage-handler', ['--backend', backendUrl], profFlags('vantage-handler')) },
    { name: 'fastify-http-proxy', start: () => startRole('fastify', ['--backend', backendUrl]) },
    { name: 'http-proxy', start: () => startRole('http-proxy', ['--backend', backendUrl]) },
    {
      name: 'nginx',
      start: async () => {
        if (flag('no-nginx')) {
          say('nginx: skipped (--no-nginx)');
          return null;
        }
        const bin = ensureNginx(say);
        return bin ? startNginx(bin, backend.port) : null;
      },
    },
  ];

  const rows: Row[] = [];
  const skipped: string[] = [];
  for (const t of targets) {
    if (!want(t.name) && !(t.name === 'direct' && only.length > 0)) continue;
    const p = await t.start();
    if (!p) {
      skipped.push(t.name);
      continue;
    }
    try {
      if (warmup > 0) await autocannonRun(p.port, warmup, connections);
      const cpu0 = cpuMs(p.child.pid);
      const load = await autocannonRun(p.port, duration, connections);
      const cpu1 = cpuMs(p.child.pid);
      const cpuPerReq = cpu0 !== null && cpu1 !== null && load.total > 0 ? round(((cpu1 - cpu0) * 1000) / load.total) : null;
      const lat = await latencyProbe(p.port, backend.port, latencySeconds, latencyConns);
      const row: Row = {
        target: t.name,
        ...load,
        rps: Math.round(load.rps),
        cpu_us_per_req: cpuPerReq,
        moderate_p50_us: lat.p50_us,
        moderate_p99_us: lat.p99_us,
        added_p50_us: t.name === 'direct' ? null : lat.added_p50_us,
      };
      rows.push(row);
      say(`  ${t.name.padEnd(20)} ${String(row.rps).padStart(8)} req/s  ${String(row.cpu_us_per_req ?? '-').padStart(6)} µs CPU/req   p50 ${row.p50_ms} ms  p99 ${row.p99_ms} ms   moderate p50 ${row.moderate_p50_us} µs${row.added_p50_us === null ? '' : ` (+${row.added_p50_us} µs)`}${row.errors || row.non2xx ? `   errors ${row.errors} non-2xx ${row.non2xx}` : ''}`);
    } finally {
      await p.stop();
    }
  }
  await backend.stop();

  const rps = (n: string) => rows.find((r) => r.target === n)?.rps ?? null;
  const vantage = rps('vantage');
  const libs = ['fastify-http-proxy', 'http-proxy'].map((n) => ({ n, v: rps(n) })).filter((x): x is { n: string; v: number } => x.v !== null);
  const bestLib = libs.sort((a, b) => b.v - a.v)[0] ?? null;
  const nginx = rps('nginx');
  const added = rows.find((r) => r.target === 'vantage')?.added_p50_us ?? null;
  const cpu = (n: string) => rows.find((r) => r.target === n)?.cpu_us_per_req ?? null;
  const cpuLibs = ['fastify-http-proxy', 'http-proxy'].map((n) => ({ n, v: cpu(n) })).filter((x): x is { n: string; v: number } => x.v !== null);
  const cheapestLib = cpuLibs.sort((a, b) => a.v - b.v)[0] ?? null;
  const vCpu = cpu('vantage');
  const nCpu = cpu('nginx');
  const goals = {
    vs_best_node_proxy: vantage !== null && bestLib ? { best: bestLib.n, ratio: round(vantage / bestLib.v, 2), goal: 1.2, met: vantage / bestLib.v >= 1.2 } : null,
    vs_nginx: vantage !== null && nginx !== null ? { ratio: round(vantage / nginx, 2), goal: 0.5, met: vantage / nginx >= 0.5 } : null,
    added_p50_us: added !== null ? { value: added, goal: 300, met: added <= 300 } : null,
    // The same ratios from CPU per request (capacity of one core), which other load on the machine distorts less.
    cpu_vs_best_node_proxy: vCpu && cheapestLib ? { best: cheapestLib.n, ratio: round(cheapestLib.v / vCpu, 2), goal: 1.2, met: cheapestLib.v / vCpu >= 1.2 } : null,
    cpu_vs_nginx: vCpu && nCpu ? { ratio: round(nCpu / vCpu, 2), goal: 0.5, met: nCpu / vCpu >= 0.5 } : null,
  };

  let profileTop: Array<{ fn: string; self_pct: number }> | null = null;
  if (profile && existsSync(profileDir)) {
    // One profile per thread (tsx's loader runs in a worker): the main thread's is the largest.
    const files = readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(profileDir, f))
      .sort((a, b) => statSync(b).size - statSync(a).size);
    const main = files[0];
    if (main) {
      profileTop = summarizeProfile(main);
      say(`\nCPU profile of the ${profileTarget} process (${main.replace(REPO + '/', '')}), top self time:`);
      for (const p of profileTop) say(`  ${String(p.self_pct).padStart(5)} %  ${p.fn}`);
    }
  }

  if (JSON_OUT) {
    process.stdout.write(JSON.stringify({ connections, duration_s: duration, results: rows, skipped, goals, profile: profileTop }) + '\n');
    return;
  }
  const header = ['target', 'req/s', 'CPU µs/req', 'p50 ms', 'p99 ms', 'mod. p50 µs', 'mod. p99 µs', 'added p50 µs'];
  const table = rows.map((r) => [r.target, String(r.rps), String(r.cpu_us_per_req ?? '-'), String(r.p50_ms), String(r.p99_ms), String(r.moderate_p50_us), String(r.moderate_p99_us), r.added_p50_us === null ? '-' : String(r.added_p50_us)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log('\n' + line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of table) console.log(line(r));
  if (skipped.length) console.log(`skipped: ${skipped.join(', ')}`);
  console.log('(CPU µs/req = CPU time of the target process (and its children) per request under load: the capacity of one core is ≈ 1e6 / that)');
  console.log(`(moderate = ${latencyConns} closed-loop keep-alive connections for ${latencySeconds} s, alternating a direct and a proxied request; added = p50 − direct p50 of the same window)`);
  const fmt = (label: string, g: { ratio?: number; value?: number; goal: number; met: boolean } | null, unit = '×') =>
    g ? `${label}: ${g.ratio ?? g.value}${unit} (goal ${unit === '×' ? '≥' : '≤'} ${g.goal}${unit}) ${g.met ? 'met' : 'NOT met'}` : `${label}: n/a`;
  console.log(fmt(`vantage vs best Node proxy (${goals.vs_best_node_proxy?.best ?? '-'})`, goals.vs_best_node_proxy));
  console.log(fmt('vantage vs nginx', goals.vs_nginx));
  console.log(fmt('vantage added p50 at moderate load', goals.added_p50_us, ' µs'));
  console.log(fmt(`capacity per core (CPU/req) vs best Node proxy (${goals.cpu_vs_best_node_proxy?.best ?? '-'})`, goals.cpu_vs_best_node_proxy));
  console.log(fmt('capacity per core (CPU/req) vs nginx', goals.cpu_vs_nginx));
}

const role = opt('role', '');
const backendArg = opt('backend', '');
const roles: Record<string, () => Promise<void>> = {
  backend: roleBackend,
  vantage: () => roleVantage(backendArg),
  'vantage-handler': () => roleVantageHandler(backendArg),
  fastify: () => roleFastify(backendArg),
  'http-proxy': () => roleHttpProxy(backendArg),
};
const run = role ? roles[role] : main;
if (!run) {
  console.error(`unknown role ${role}`);
  process.exit(2);
}
run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
