/**
 * SIGTERM of real `vantage server` processes on PostgreSQL (leader and followers, with worker streams and
 * load-balancer traffic): each exits by itself with code 0, having closed every connection to the database,
 * without the 2 s guard of src/cli/main.ts firing ("still running 2 s after shutdown").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../monitoring/helpers.js';
import { SimWorker } from '../monitoring/sim-worker.js';
import { sql, startCluster, type Cluster } from './cluster.js';
import { http, startReplica, within, type Replica } from './replicas.js';

const GUARD = 'still running 2 s after shutdown';
const TOKEN = 'shutdown-token';
let cluster: Cluster;
let url: string;
const started: Replica[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('shutdown');
});
afterAll(async () => {
  await Promise.all(started.map((r) => r.kill('SIGKILL')));
  await cluster?.destroy();
});

const reg = (id: string) => ({ client_id: id, hostname: `${id}.test`, total_cpu: 4, total_memory_gb: 8, total_storage_gb: 100, endpoint_url: `http://127.0.0.1:9/${id}` });

describe('SIGTERM on PostgreSQL', () => {
  it('leader and followers exit cleanly (code 0, no guard, no connection left) while serving streams and traffic', async () => {
    for (let round = 0; round < 2; round++) {
      const replicas = await Promise.all(['a', 'b', 'c'].map((name) => startReplica({ name: `${name}${round}`, database: url, args: ['--health-check-enabled', 'false', '--cluster-token', TOKEN] })));
      started.push(...replicas);
      for (const r of replicas) await waitFor(async () => (await http(`${r.url}/health`)).status === 200, { timeoutMs: 30_000, intervalMs: 50, what: `${r.name} healthy` });
      await waitFor(() => replicas.some((r) => r.output().includes('acquired the leader lock')), { timeoutMs: 10_000, what: 'a leader' });
      const workers = replicas.map((r, i) => new SimWorker({ baseUrl: `http://127.0.0.1:${r.workerPort}`, token: TOKEN, hostname: `w${i}` }));
      for (const w of workers) w.register();
      await waitFor(() => workers.every((w) => w.registration !== null), { timeoutMs: 10_000, what: 'workers registered' });
      for (const w of workers) w.requestJobs(10);
      // traffic until the signal: registrations (written before the answer), stats and sticky routes (written behind)
      let stop = false;
      const load = Promise.all(
        replicas.map(async (r, i) => {
          for (let n = 0; !stop; n++) {
            await http(`${r.url}/register`, { body: reg(`be-${round}-${i}-${n % 5}`) });
            await http(`${r.url}/route`, { body: { tier: 'small', sticky_id: `s-${round}-${n}` } });
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 1_000));
      const t0 = Date.now();
      const codes = await within(Promise.all(replicas.map((r) => r.kill('SIGTERM'))), 15_000, 'the replicas to exit after SIGTERM');
      const exitMs = Date.now() - t0;
      stop = true;
      await load;
      await Promise.all(workers.map((w) => w.kill().catch(() => undefined)));
      for (const r of replicas) expect({ name: r.name, guard: r.output().includes(GUARD) ? r.output().split('\n').find((l) => l.includes(GUARD)) : null }).toEqual({ name: r.name, guard: null });
      expect(codes).toEqual([0, 0, 0]);
      expect(exitMs).toBeLessThan(10_000);
      // every connection of those processes is gone (the pool, the LISTEN and the leader connection)
      await waitFor(async () => (await sql<{ n: string }>(url, `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`))[0]!.n === '0', {
        timeoutMs: 5_000,
        intervalMs: 50,
        what: 'no connection left to the database',
      });
    }
  }, 150_000);
});
