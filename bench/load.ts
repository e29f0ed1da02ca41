/**
 * Load test of the hardened front door (`npm run bench:load`, `-- --json` for one JSON object; not in CI).
 *
 * A real `vantage server` process, synthetic backends (registered with stats through the API) pointing at a
 * minimal backend HTTP server in another process, and autocannon at saturation from this process, for
 * `--duration` seconds per case (default 60):
 *  1. `/route`: POST /route then DELETE /reservations/{id} (an Option-2 integration that releases what it
 *     does not use), rate limit out of reach;
 *  2. `/route` behind the default rate limit (60/min, burst 120, applied live with SIGHUP): nearly every
 *     request is an intended 429; nothing else may fail;
 *  3. the reverse proxy: GET /app/… proxied to the backend (non-sticky: the reservation ends with the response).
 * Reported per case: requests/s, p50/p99 latency, 2xx / 429 / other statuses, socket errors and timeouts,
 * and the server's RSS at the start and end of the measured run (and its peak): memory must stay flat.
 *
 * Options: --json, --duration <s> (60), --connections <n> (100), --backends <n> (20),
 * --server-entry <file.js> (default dist/cli/main.js when built, else the sources through tsx).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { REPO, cliArgs, postJson, rssKb, spawnChild as spawnBenchChild, spawnScriptServer, waitFor } from './lib.js';

/** The part of autocannon's API used here (the package ships no types). */
interface CannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: Record<string, unknown>, context: Record<string, unknown>) => Record<string, unknown>;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}
interface CannonOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections?: number;
  duration?: number;
  requests?: CannonRequest[];
}
interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats?: Record<string, { count: number }>;
  '2xx': number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: CannonOptions) => Promise<CannonResult>;

const { args, flag, opt } = cliArgs();
const JSON_OUT = flag('json');
const DURATION = opt('duration', 60);
const CONNECTIONS = opt('connections', 100);
const BACKENDS = opt('backends', 20);
const DIST_MAIN = join(REPO, 'dist/cli/main.js');
const SERVER_ENTRY = args.includes('--server-entry') ? resolve(args[args.indexOf('--server-entry') + 1] ?? '') : existsSync(DIST_MAIN) ? DIST_MAIN : undefined;
/** server_key: agents (the setup); exempt from the per-IP rate limit. */
const KEY = 'bench-load-key-0123456789abcdef0123456789';
/** An integration's key (api_keys): subject to the rate limit, like any non-agent caller. */
const CLIENT_KEY = 'bench-client-key-0123456789abcdef01234567';

const log = (msg: string) => {
  if (!JSON_OUT) process.stderr.write(`${msg}\n`);
};


const spawnChild = (argv: string[], env: Record<string, string>) => spawnBenchChild(argv, env, 50_000);

const BACKEND = `
const http = require('node:http');
const body = Buffer.from(JSON.stringify({ ok: true, pad: 'x'.repeat(200) }));
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => require('node:fs').writeFileSync(process.env.PORT_FILE, String(s.address().port)));
`;

/** Status of one GET /clients with the integration key (to see a reload take effect). */
async function probe(base: string): Promise<number> {
  const res = await fetch(`${base}/clients`, { headers: { 'x-api-key': CLIENT_KEY } });
  await res.arrayBuffer();
  return res.status;
}

const post = (base: string, path: string, body: unknown): Promise<void> => postJson(base, path, body, { 'x-api-key': KEY });


interface Row {
  case: string;
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  total: number;
  status_2xx: number;
  status_429: number;
  status_other: Record<string, number>;
  socket_errors: number;
  timeouts: number;
  rss_start_mb: number | null;
  rss_end_mb: number | null;
  rss_peak_mb: number | null;
  /** Errors other than intended 429s: must be 0. */
  unintended_errors: number;
}

const mb = (kb: number | null) => (kb === null ? null : Math.round(kb / 102.4) / 10);

async function cannon(name: string, opts: CannonOptions, pid: number | undefined, allow429: boolean): Promise<Row> {
  log(`  ${name}: warming up…`);
  await autocannon({ ...opts, duration: 3 });
  const start = rssKb(pid);
  let peak = start ?? 0;
  const sampler = setInterval(() => {
    const v = rssKb(pid);
    if (v !== null && v > peak) peak = v;
  }, 1000);
  log(`  ${name}: measuring for ${DURATION} s with ${CONNECTIONS} connections…`);
  const r = await autocannon({ ...opts, duration: DURATION });
  clearInterval(sampler);
  const end = rssKb(pid);
  const codes = r.statusCodeStats ?? {};
  let s2 = 0;
  let s429 = 0;
  const other: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(codes)) {
    if (code.startsWith('2')) s2 += count;
    else if (code === '429') s429 += count;
    else other[code] = count;
  }
  const otherCount = Object.values(other).reduce((a, b) => a + b, 0);
  const row: Row = {
    case: name,
    requests_per_s: Math.round(r.requests.average),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    total: r.requests.total,
    status_2xx: s2,
    status_429: s429,
    status_other: other,
    socket_errors: r.errors,
    timeouts: r.timeouts,
    rss_start_mb: mb(start),
    rss_end_mb: mb(end),
    rss_peak_mb: mb(peak || null),
    unintended_errors: otherCount + r.errors + r.timeouts + (allow429 ? 0 : s429),
  };
  log(
    `  ${name}: ${row.requests_per_s} req/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, 2xx ${s2}, 429 ${s429}, other ${JSON.stringify(other)}, errors ${r.errors}, timeouts ${r.timeouts}, RSS ${row.rss_start_mb} → ${row.rss_end_mb} MB (peak ${row.rss_peak_mb})`,
  );
  return row;
}

function serverConfig(dir: string, limits: { perMinute: number; burst: number }): Record<string, unknown> {
  return {
    port: 0,
    host: '127.0.0.1',
    database: join(dir, 'vantage.db'),
    log_level: 'warn',
    json_logging: true,
    monitoring_enabled: false,
    health_check_enabled: false,
    server_key: KEY,
    api_keys: [CLIENT_KEY],
    rate_limit_per_minute: limits.perMinute,
    rate_limit_burst: limits.burst,
    proxy_endpoints: ['/app'],
    tiers: [{ name: 'bench', vcpu: 0, memory_gb: 0, storage_gb: 0 }],
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-load-'));
  const children: ChildProcess[] = [];
  try {
    const backend = await spawnScriptServer(BACKEND, dir, 'the backend');
    children.push(backend.proc);
    const backendPort = backend.port;

    const cfgFile = join(dir, 'server.yml');
    const unlimited = { perMinute: 1_000_000_000, burst: 1_000_000_000 };
    writeFileSync(cfgFile, stringify(serverConfig(dir, unlimited)));
    const portFile = join(dir, 'server.port.json');
    const argv = SERVER_ENTRY ? [SERVER_ENTRY, 'server', '--config', cfgFile] : ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'server', '--config', cfgFile];
    log(`server: ${SERVER_ENTRY ?? 'src/cli/main.ts (tsx)'}`);
    const server = spawnChild(argv, { VANTAGE_PORT_FILE: portFile });
    children.push(server.proc);
    const info = await waitFor(() => (existsSync(portFile) ? (JSON.parse(readFileSync(portFile, 'utf8')) as { url: string }) : null), 'the server');
    const base = info.url;
    const pid = server.proc.pid;

    for (let i = 0; i < BACKENDS; i++) {
      const id = `load-${String(i).padStart(3, '0')}`;
      await post(base, '/register', { client_id: id, hostname: id, total_cpu: 16, total_memory_gb: 64, total_storage_gb: 500, endpoint_url: `http://127.0.0.1:${backendPort}` });
      await post(base, '/stats', {
        client_id: id,
        hostname: id,
        timestamp: new Date().toISOString(),
        cpu_cores: 16,
        cpu_usage_avg: Array.from({ length: 16 }, (_, c) => (c * 7 + i) % 90),
        memory_total_gb: 64,
        memory_used_gb: 16,
        memory_avail_gb: 48,
        disk_total_gb: 500,
        disk_used_gb: 100,
        disk_avail_gb: 400,
      });
    }
    log(`${BACKENDS} backends registered; backend on :${backendPort}`);

    const rows: Row[] = [];
    const routeBody = JSON.stringify({ tier: 'bench' });
    // 1. /route + release, no rate limit.
    rows.push(
      await cannon(
        '/route + DELETE /reservations (no rate limit)',
        {
          url: base,
          connections: CONNECTIONS,
          requests: [
            {
              method: 'POST',
              path: '/route',
              headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY },
              body: routeBody,
              onResponse: (status, body, context) => {
                context.reservation = status === 200 ? (JSON.parse(body) as { reservation_id?: string }).reservation_id : undefined;
              },
            },
            {
              method: 'DELETE',
              headers: { 'x-api-key': CLIENT_KEY },
              setupRequest: (req, context) => ({ ...req, path: `/reservations/${String(context.reservation ?? 'none')}` }),
            },
          ],
        },
        pid,
        false,
      ),
    );

    // 2. The default rate limit, applied live with SIGHUP.
    writeFileSync(cfgFile, stringify(serverConfig(dir, { perMinute: 60, burst: 120 })));
    server.proc.kill('SIGHUP');
    await waitFor(async () => ((await probe(base)) === 429 ? true : null), 'the rate-limit reload', 10_000);
    rows.push(
      await cannon(
        '/route behind the default rate limit (60/min, burst 120)',
        { url: `${base}/route`, method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY }, body: routeBody, connections: CONNECTIONS },
        pid,
        true,
      ),
    );

    // 3. The reverse proxy, no rate limit.
    writeFileSync(cfgFile, stringify(serverConfig(dir, unlimited)));
    server.proc.kill('SIGHUP');
    await waitFor(async () => ((await probe(base)) === 200 ? true : null), 'the second reload', 10_000);
    // End users of the proxy send no key.
    rows.push(await cannon('proxy GET /app/… (no rate limit)', { url: `${base}/app/items?id=1`, headers: { 'x-tier': 'bench' }, connections: CONNECTIONS }, pid, false));

    const ok = rows.every((r) => r.unintended_errors === 0);
    if (JSON_OUT) {
      process.stdout.write(`${JSON.stringify({ duration_s: DURATION, connections: CONNECTIONS, backends: BACKENDS, rows, ok }, null, 2)}\n`);
    } else {
      const head = ['case', 'req/s', 'p50 ms', 'p99 ms', '2xx', '429', 'other', 'errors', 'RSS start→end (peak) MB'];
      const body = rows.map((r) => [
        r.case,
        String(r.requests_per_s),
        String(r.p50_ms),
        String(r.p99_ms),
        String(r.status_2xx),
        String(r.status_429),
        JSON.stringify(r.status_other),
        String(r.socket_errors + r.timeouts),
        `${r.rss_start_mb} → ${r.rss_end_mb} (${r.rss_peak_mb})`,
      ]);
      const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
      const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
      process.stdout.write(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n${body.map(line).join('\n')}\n`);
      process.stdout.write(`\n${ok ? 'OK: no errors other than the intended 429s' : 'FAIL: unintended errors (see the table)'}; ${DURATION} s per case, ${CONNECTIONS} connections, ${BACKENDS} backends\n`);
    }
    if (!ok) process.exitCode = 1;
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:load failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
