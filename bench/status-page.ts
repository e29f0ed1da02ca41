/**
 * Status page of 100 monitors served uncached (no If-None-Match, no server-side cache): each request reads
 * every monitor, its 90 days of 1d rollups and its latest result from a real SQLite file, builds the view and
 * renders it. Target: ≤ 50 ms. Ten monitors have a weekly maintenance window (their 1h rollups are read too).
 * Prints a table of latency percentiles per answer type. `npm run bench:status-page [-- --requests 200]`
 */
import { cliArgs } from './lib.js';
import { seedRuns, startFixture } from '../test/status-pages/fixture.js';

const args = cliArgs();
const REQUESTS = args.opt('requests', 200);
const MONITORS = args.opt('monitors', 100);
const D = 86_400_000;
const NOW = Date.UTC(2026, 5, 15, 12, 30);

const f = await startFixture({ now: () => NOW });
const seedStart = performance.now();
for (let m = 0; m < MONITORS; m++) {
  // Two runs a day for 90 days: one 1d bucket per day, 1h buckets for the maintenance exclusion.
  const runs = Array.from({ length: 180 }, (_, i) => ({ at: NOW - 90 * D + i * (D / 2), up: (i + m) % 37 !== 0, ms: 20 + ((i * 7 + m) % 200) }));
  await seedRuns(f.opened, `m${m}`, runs, { name: `Service ${m}` });
}
const groups = Array.from({ length: 10 }, (_, g) => ({ name: `Group ${g}`, monitorIds: Array.from({ length: MONITORS / 10 }, (_, i) => `m${g * (MONITORS / 10) + i}`) }));
await f.opened.statusPages.upsertPage({ slug: 'bench', title: 'Bench', description: '', showTargets: false, groups }, NOW);
await f.opened.statusPages.createWindow(
  { title: 'Weekly', description: '', schedule: { kind: 'weekly', weekdays: [0], start: '02:00', durationMs: 2 * 3_600_000, timezone: 'Europe/Amsterdam' }, targets: { monitorIds: [], groups: ['Group 0'], statusPages: [] } },
  { id: 'w', now: NOW },
);
await f.calendar.reload();
const seedMs = performance.now() - seedStart;

async function measure(path: string): Promise<{ path: string; bytes: number; p50: number; p95: number; p99: number; max: number }> {
  for (let i = 0; i < 10; i++) await (await fetch(`${f.url}${path}`)).arrayBuffer(); // warm-up
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const res = await fetch(`${f.url}${path}`);
    const body = await res.arrayBuffer();
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
    bytes = body.byteLength;
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
  return { path, bytes, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: times[times.length - 1]! };
}

const rows = [];
for (const path of ['/status/bench', '/status/bench.json', '/status/bench/feed.atom', '/badge/m0/uptime-30d.svg', '/badge/m5/p95.svg']) rows.push(await measure(path));
await f.close();

console.log(`status page bench: ${MONITORS} monitors × 90 days (SQLite file), ${REQUESTS} sequential uncached requests each; seeded in ${(seedMs / 1000).toFixed(1)} s`);
console.log('| answer | bytes | p50 ms | p95 ms | p99 ms | max ms | target |');
console.log('|---|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  const target = r.path.startsWith('/status/') ? (r.p99 <= 50 ? '≤ 50 ms: met (p99)' : '≤ 50 ms: MISSED (p99)') : '';
  console.log(`| GET ${r.path} | ${r.bytes} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} | ${target} |`);
}
