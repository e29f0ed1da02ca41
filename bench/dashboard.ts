/**
 * Dashboard benchmark (`npm run bench:dashboard`, `-- --monitors <n>`, `-- --no-browser`).
 *
 * Seeds a SQLite file with 10 000 monitors and a week of history: 1h rollups for 7 days and 1d rollups for
 * 90 days for every monitor (what the rollup pass leaves behind), plus the raw results of the last 30 minutes
 * (one a minute; 2 % down), which is what retention keeps raw for the latest-state queries. Then measures,
 * over Connect JSON on a loopback HTTP server (the web handler, API key auth):
 *  - DashboardService.GetOverview                      target ≤ 100 ms (computed: the clock is moved past the
 *    shared overview cache's 2 s before each call; and answered from that cache, as concurrent tabs and the
 *    live stream get it)
 *  - MonitorsService.ListMonitors, one page of 50 with summaries (and with a search, a status filter)  ≤ 100 ms
 *  - a monitor's 90-day detail (GetMetrics 1d × 90 d + GetUptime + ListResults 90)  ≤ 150 ms
 *  - Chromium: the built monitors page (dist/web) until the first page of rows is shown  ≤ 1 s
 * The browser case serves dist/web with the server's own static handler (src/api/web/static.ts: precompressed
 * .br/.gz assets, immutable caching, index.html with its <base href>) and answers GET /api/auth/session with a
 * fixed admin session (this bench measures rendering and the API, not sign-in); run `npm run build:web` first.
 * `-- --db FILE` keeps the seeded database in FILE and reuses it on the next run (the seed takes minutes).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../src/store/index.js';
import { createWebHandler } from '../src/api/web/handler.js';
import { serveStatic } from '../src/api/web/static.js';
import { OVERVIEW_CACHE_MS } from '../src/api/web/overview-cache.js';
import { LatencySketch } from '../src/monitoring/domain/sketch.js';
import { spec } from '../test/store/contract/fixtures.js';

const args = process.argv.slice(2);
const N = (args.includes('--monitors') ? Number(args[args.indexOf('--monitors') + 1]) : 0) || 10_000;
const browser = !args.includes('--no-browser');
const keptDb = args.includes('--db') ? resolve(args[args.indexOf('--db') + 1]!) : null;
const H = 3_600_000;
const D = 86_400_000;
const NOW = keptDb !== null && existsSync(keptDb) ? Number(readFileSync(`${keptDb}.now`, 'utf8')) : Math.floor(Date.now() / 60_000) * 60_000;
/** The monitor whose detail is measured (one in the middle). */
const DETAIL_ID = `m${String(Math.floor(N / 2)).padStart(6, '0')}`;

const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-dash-'));
const file = keptDb ?? join(dir, 'bench.db');

function seed(): void {
  if (keptDb !== null && existsSync(keptDb)) {
    console.log(`reusing ${keptDb} (seeded at ${new Date(NOW).toISOString()})`);
    return;
  }
  const t0 = performance.now();
  const store = openSqliteStore(file);
  void store; // creates the schema (every component's migrations)
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const s = spec();
  const insM = db.prepare(`INSERT INTO monitors (id, name, owner, type, url, method, headers, body, interval_ms, timeout_ms, assertions, assertions_compiled,
    options, regions, enabled, jitter_seed, next_due_at, created_at, updated_at) VALUES (?, ?, 'bench', ?, ?, 'GET', '{}', '', 60000, 10000, '[]', '[]', '{}', ?, ?, 1, ?, ?, ?)`);
  const sk = new LatencySketch();
  for (const v of [40, 55, 60, 80, 120, 300]) sk.add(v, 10);
  const blob = sk.encode();
  const insAgg = (res: string) =>
    db.prepare(`INSERT INTO results_agg_${res} (monitor_id, region, bucket_start, count, up_count, error_count, lat_count, lat_sum, lat_min, lat_max, p50_ms, p95_ms, p99_ms, sketch)
      VALUES (?, 'eu', ?, ?, ?, ?, ?, ?, 40, 300, 60, ?, ?, ?)`);
  const ins1h = insAgg('1h');
  const ins1d = insAgg('1d');
  const insR = db.prepare(`INSERT INTO results_raw (run_id, event_at, monitor_id, region, worker_id, status, http_code, total_ms, ttfb_ms, error_class, ingested_at)
    VALUES (?, ?, ?, 'eu', 'w', ?, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const id = `m${String(i).padStart(6, '0')}`;
      const region = i % 4 === 0 ? 'us-east' : 'eu';
      insM.run(id, `${i % 3 === 0 ? 'shop' : 'api'}-${i}`, i % 5 === 0 ? 'tcp' : s.type, `https://svc${i}.example/health`, JSON.stringify([region]), i % 50 === 0 ? 0 : 1, NOW, NOW - 90 * D, NOW);
      const slow = (i % 97) * 3;
      for (let h = 0; h < 7 * 24; h++) ins1h.run(id, Math.floor(NOW / H) * H - h * H, 60, 59, 1, 59, 59 * 70, 120 + slow, 250 + slow, blob);
      for (let d = 0; d < 90; d++) ins1d.run(id, Math.floor(NOW / D) * D - d * D, 1440, 1438, 2, 1438, 1438 * 70, 120 + slow, 250 + slow, blob);
      for (let m = 0; m < 30; m++) {
        const down = (i * 31 + m) % 50 === 0;
        const at = NOW - m * 60_000;
        insR.run(`${id}-${m}`, at, id, down ? 'down' : 'up', down ? 503 : 200, 50 + (m % 7) * 10, 30, down ? 'http_status' : null, at);
      }
    }
  })();
  // Every raw result counts as rolled up already (the rollups above stand for them).
  db.prepare("UPDATE monitoring_state SET value = (SELECT MAX(seq) FROM results_raw) WHERE key = 'rollup_seq'").run();
  db.close();
  void store.close();
  if (keptDb !== null) writeFileSync(`${keptDb}.now`, String(NOW));
  console.log(`seeded ${N} monitors, ${N * 168} 1h + ${N * 90} 1d rollup rows, ${N * 30} raw results in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

function pctl(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function main(): Promise<void> {
  seed();
  const store = openSqliteStore(file);
  const clock = { now: NOW };
  const handler = createWebHandler({ store: store.monitoring, dashboard: store.dashboard, now: () => clock.now, auth: { server_key: 'k', api_keys: [] } });
  const webDir = join(process.cwd(), 'dist/web');
  const srv = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/api/auth/session') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ user: { id: 'bench', username: 'bench', role: 'admin' }, csrfToken: 'bench' }));
      return;
    }
    if (path === '/api/live') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return;
    }
    // The browser sends no API key: the bench adds it (sign-in is not what is measured).
    if (path.startsWith('/vantage.v1.')) req.headers['x-api-key'] = 'k';
    if (handler(req, res)) return;
    if (serveStatic(webDir, req, res, path, '/')) return;
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const call = async (method: string, body: unknown): Promise<number> => {
    const t = performance.now();
    const res = await fetch(`${base}/vantage.v1.${method}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method}: ${res.status} ${text}`);
    return performance.now() - t;
  };
  const cases: Array<[string, number, () => Promise<number>]> = [
    [
      'GetOverview (computed)',
      100,
      () => {
        clock.now += OVERVIEW_CACHE_MS + 1; // past the shared cache: every call computes the figures
        return call('DashboardService/GetOverview', {});
      },
    ],
    ['GetOverview (shared cache)', 100, () => call('DashboardService/GetOverview', {})],
    ['ListMonitors page of 50 + summaries', 100, () => call('MonitorsService/ListMonitors', { limit: 50, withSummary: true })],
    ['ListMonitors page 50, search "shop-12"', 100, () => call('MonitorsService/ListMonitors', { limit: 50, withSummary: true, search: 'shop-12' })],
    ['ListMonitors page 50, status down', 100, () => call('MonitorsService/ListMonitors', { limit: 50, withSummary: true, statuses: ['down'] })],
    [
      'monitor 90-day detail',
      150,
      async () => {
        const t = performance.now();
        await Promise.all([
          call('MonitorsService/GetMonitor', { id: DETAIL_ID }),
          call('MonitorsService/GetMetrics', { monitorId: DETAIL_ID, resolution: '1d', fromMs: String(NOW - 90 * D), toMs: String(NOW + 1) }),
          call('MonitorsService/GetMetrics', { monitorId: DETAIL_ID, resolution: '1h', fromMs: String(NOW - 2 * D), toMs: String(NOW + 1) }),
          call('MonitorsService/GetUptime', { monitorId: DETAIL_ID }),
          call('MonitorsService/ListResults', { monitorId: DETAIL_ID, limit: 90 }),
        ]);
        return performance.now() - t;
      },
    ],
  ];
  const timed = (f: () => Promise<unknown>) => async () => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const floorH = Math.floor(NOW / H) * H;
  cases.push(
    ['  store: counts()', 100, timed(() => store.dashboard.counts())],
    ['  store: runsSince(24 h)', 100, timed(() => store.dashboard.runsSince(floorH - 23 * H))],
    ['  store: recentFailures(24 h)', 100, timed(() => store.dashboard.recentFailures(NOW - 24 * H, 10))],
    ['  store: slowest(1 h)', 100, timed(() => store.dashboard.slowest(floorH - H, 10))],
    ['  store: countMonitors({})', 100, timed(() => store.dashboard.countMonitors({}))],
  );
  const rows: string[][] = [];
  for (const [name, target, fn] of cases) {
    for (let i = 0; i < 3; i++) await fn(); // warm-up
    const xs: number[] = [];
    for (let i = 0; i < 20; i++) xs.push(await fn());
    const p50 = pctl(xs, 0.5);
    const p95 = pctl(xs, 0.95);
    rows.push([name, p50.toFixed(1), p95.toFixed(1), `≤ ${target}`, p95 <= target ? 'yes' : 'NO']);
  }
  if (browser) {
    if (!existsSync(join(webDir, 'index.html'))) throw new Error('dist/web/index.html missing: run npm run build:web first');
    const { chromium } = await import('playwright-core');
    const b = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const xs: number[] = [];
      for (let i = 0; i < 6; i++) {
        const ctx = await b.newContext();
        const page = await ctx.newPage();
        const t = performance.now();
        await page.goto(`${base}/monitors`);
        await page.waitForSelector('table[aria-label="monitors"] tbody tr:nth-child(50)');
        const ms = performance.now() - t;
        if (i > 0) xs.push(ms); // the first load also warms the server's statement cache
        await ctx.close();
      }
      rows.push(['Chromium: /monitors until 50 rows shown', pctl(xs, 0.5).toFixed(1), pctl(xs, 0.95).toFixed(1), '≤ 1000', pctl(xs, 0.95) <= 1000 ? 'yes' : 'NO']);
    } finally {
      await b.close();
    }
    const size = JSON.parse(readFileSync(join(webDir, 'size.json'), 'utf8')) as { gzipBytes: number };
    rows.push(['front end size gzipped (KB)', (size.gzipBytes / 1024).toFixed(1), '', '≤ 300', size.gzipBytes <= 300 * 1024 ? 'yes' : 'NO']);
  }
  srv.closeAllConnections();
  srv.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const load = loadavg().map((x) => x.toFixed(2)).join(', ');
  const head = ['case', 'p50 ms', 'p95 ms', 'target', 'met'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  console.log(`\n${N} monitors, SQLite, round trips over loopback HTTP (Connect JSON); load average ${load}\n`);
  console.log(line(head));
  console.log(`|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

await main();
