/**
 * What one sticky winner across replicas costs on /route (`npm run bench:sticky-pg`; `npm run build` first):
 * two real `vantage server` processes on a throwaway PostgreSQL, one backend; sequential /route calls on one
 * replica, over HTTP: without a sticky id, with a known sticky id (confirmed: no database round trip), and
 * with a first-time sticky id (the claim is committed, and the winner read, before the answer). Prints one table.
 *
 * Options: --n N (calls per case, default 500), --json.
 */
import { performance } from 'node:perf_hooks';
import { startCluster } from '../test/pg/cluster.js';
import { http, startReplica } from '../test/pg/replicas.js';
import { cliArgs, waitFor } from './lib.js';

const cli = cliArgs();
const N = cli.opt('n', 500);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? NaN;
}

const cluster = await startCluster({ owned: true });
const url = await cluster.createDatabase('stickybench');
const args = ['--health-check-enabled', 'false', '--monitoring-enabled', 'false', '--rate-limit-per-minute', '100000000', '--rate-limit-burst', '100000000'];
const replicas = await Promise.all(['a', 'b'].map((name) => startReplica({ name, database: url, args, env: { VANTAGE_WEB_PORT: '0' } })));
try {
  for (const r of replicas) await waitFor(async () => ((await http(`${r.url}/health`)).status === 200 ? true : null), `${r.name} healthy`);
  const [a] = replicas;
  await http(`${a!.url}/register`, {
    body: { client_id: 'be', hostname: 'be.test', total_cpu: 1024, total_memory_gb: 4096, total_storage_gb: 100_000, endpoint_url: 'http://127.0.0.1:9/be' },
  });
  await http(`${a!.url}/stats`, {
    body: {
      client_id: 'be',
      hostname: 'be.test',
      timestamp: new Date().toISOString(),
      cpu_cores: 1024,
      cpu_usage_avg: Array.from({ length: 1024 }, () => 1),
      memory_total_gb: 4096,
      memory_used_gb: 1,
      memory_avail_gb: 4095,
      disk_total_gb: 100_000,
      disk_used_gb: 1,
      disk_avail_gb: 99_999,
    },
  });
  const time = async (body: (i: number) => Record<string, unknown>) => {
    const ms: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const res = await http(`${a!.url}/route`, { body: body(i) });
      ms.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`/route answered ${res.status}: ${JSON.stringify(res.body)}`);
      // reservations are released so that capacity never runs out
      await http(`${a!.url}/reservations/${encodeURIComponent((res.body as { reservation_id: string }).reservation_id)}`, { method: 'DELETE' });
    }
    return ms;
  };
  await time(() => ({ tier: 'small' })); // warm-up
  await http(`${a!.url}/route`, { body: { tier: 'small', sticky_id: 'known' } });
  const rows = [
    { case: 'no sticky id', ms: await time(() => ({ tier: 'small' })) },
    { case: 'known sticky id', ms: await time(() => ({ tier: 'small', sticky_id: 'known' })) },
    { case: 'first-time sticky id', ms: await time((i) => ({ tier: 'small', sticky_id: `new-${i}-${Date.now()}` })) },
  ].map((r) => ({ case: r.case, calls: r.ms.length, p50_ms: pct(r.ms, 0.5).toFixed(2), p99_ms: pct(r.ms, 0.99).toFixed(2) }));
  if (cli.flag('json')) console.log(JSON.stringify(rows));
  else console.table(rows);
} finally {
  await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
  await cluster.destroy();
}
