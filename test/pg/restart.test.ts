/**
 * `pg_ctl restart` under load with two real replicas: /health reports the outage while it lasts, the replicas
 * reconnect by themselves (pool, LISTEN connection, leader lock), and every registration they acknowledged is
 * in the database afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { waitFor } from '../monitoring/helpers.js';
import { startCluster, type Cluster } from './cluster.js';
import { http, startReplica, type Replica } from './replicas.js';

let cluster: Cluster;
let replicas: Replica[] = [];
let url: string;
beforeAll(async () => {
  cluster = await startCluster({ owned: true });
  url = await cluster.createDatabase('restart');
  replicas = await Promise.all(['a', 'b'].map((name) => startReplica({ name, database: url, args: ['--health-check-enabled', 'false'] })));
  for (const r of replicas) await waitFor(async () => (await http(`${r.url}/health`)).status === 200, { timeoutMs: 30_000, intervalMs: 50, what: `${r.name} healthy` });
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
  await cluster?.destroy();
});

const reg = (id: string) => ({
  client_id: id,
  hostname: `${id}.test`,
  total_cpu: 4,
  total_memory_gb: 8,
  total_storage_gb: 100,
  endpoint_url: `http://127.0.0.1:9/${id}`,
});

describe('pg_ctl restart under load', () => {
  it('replicas report the outage on /health, reconnect by themselves, and lose nothing they acknowledged', async () => {
    const acked: string[] = [];
    const refused: string[] = [];
    const healthSeen = new Set<string>();
    let stop = false;
    let n = 0;
    const load = Promise.all(
      replicas.map(async (r) => {
        while (!stop) {
          const id = `${r.name}-${n++}`;
          const res = await http(`${r.url}/register`, { body: reg(id) });
          (res.status === 200 ? acked : refused).push(id);
          const h = await http(`${r.url}/health`);
          healthSeen.add(`${r.name}:${h.status}:${(h.body as { status?: string } | null)?.status ?? ''}`);
        }
      }),
    );
    await waitFor(() => acked.length >= 20, { what: 'load before the restart' });
    await cluster.restart();
    const restartedAt = Date.now();
    // after the restart both replicas acknowledge again, and report healthy
    const ackedBefore = acked.length;
    await waitFor(() => acked.length >= ackedBefore + 20, { timeoutMs: 30_000, what: 'acknowledged registrations after the restart' });
    for (const r of replicas) {
      await waitFor(async () => (await http(`${r.url}/health`)).status === 200, { timeoutMs: 20_000, what: `${r.name} healthy again` });
    }
    stop = true;
    await load;
    expect(Date.now() - restartedAt).toBeLessThan(30_000);
    expect(refused.length).toBeGreaterThan(0);
    expect([...healthSeen].some((s) => s.endsWith(':503:unavailable'))).toBe(true);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const rows = (await c.query<{ client_id: string }>('SELECT client_id FROM clients')).rows.map((r) => r.client_id);
      const stored = new Set(rows);
      expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      await c.end();
    }
    // a leader again: exactly one replica holds the lock on its dedicated connection
    await waitFor(
      async () => {
        const c2 = new pg.Client({ connectionString: url });
        await c2.connect();
        try {
          const r = await c2.query(`SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'vantage-leader'`);
          return r.rows.length === 1;
        } finally {
          await c2.end();
        }
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'a leader after the restart' },
    );
  });
});
