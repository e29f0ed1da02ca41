/**
 * Selecting PostgreSQL with `--database postgres://…`: a bad URL is a config error (exit 2, key named); an
 * unreachable server is retried with backoff, logged with its host, and /health answers 503 "starting" until
 * the database is up, then the replica serves.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../monitoring/helpers.js';
import { startCluster, type Cluster } from './cluster.js';
import { http, startReplica, type Replica } from './replicas.js';

const MAIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ owned: true });
});
afterAll(async () => {
  await cluster?.destroy();
});

describe('vantage server --database postgres://', () => {
  it('a malformed URL is a config error: exit 2 naming the key, nothing started', () => {
    const r = spawnSync(process.execPath, [MAIN, 'server', '--port', '0', '--database', 'postgres://db:99999/vantage'], { encoding: 'utf8', env: { ...process.env, VANTAGE_DATABASE: undefined } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--database: database: expected a SQLite file path or a postgres://user:pass@host:port/database URL');
  });

  it('waits for an unreachable database (503 "starting" on /health, retries logged with the host), then serves', async () => {
    const url = await cluster.createDatabase('startup');
    const pgHost = new URL(url).host;
    await cluster.stop();
    let replica: Replica | null = null;
    try {
      replica = await startReplica({ name: 'a', database: url });
      const starting = await waitFor(async () => {
        const r = await http(`${replica!.url}/health`);
        return r.status === 503 ? r : null;
      }, { timeoutMs: 20_000, intervalMs: 100, what: '/health 503 while the database is down' });
      expect(starting.body).toMatchObject({ status: 'starting' });
      expect((starting.body as { reason: string }).reason).toContain(`database at ${pgHost} not reachable`);
      await waitFor(() => replica!.output().includes(`database at ${pgHost} not reachable`), { what: 'the retry log naming the host' });
      expect(replica.output()).not.toContain('vantage server ready');
      await cluster.start();
      const ok = await waitFor(async () => {
        const r = await http(`${replica!.url}/health`);
        return r.status === 200 ? r : null;
      }, { timeoutMs: 30_000, intervalMs: 100, what: '/health 200 once the database is up' });
      expect(ok.body).toMatchObject({ status: 'healthy' });
      expect(replica.output()).toContain(`connected to the database at ${pgHost}`);
      expect(await replica.kill('SIGTERM')).toBe(0);
    } finally {
      await replica?.kill('SIGKILL');
    }
    // Its own waits add up to 50 s (20 s down, 30 s up); a loaded 2-core machine needs more than the default 60 s.
  }, 120_000);
});
