/**
 * Selecting PostgreSQL with `--database postgres://…`: a bad URL is a config error (exit 2, key named); an
 * unreachable server is retried with backoff, logged with its host, and /health answers 503 "starting" until
 * the database is up, then the replica serves. Every wait is bounded on its own (pg_ctl, the replica's exit,
 * each condition), so a stuck step fails with its name instead of hanging the suite.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../monitoring/helpers.js';
import { freePort, startCluster, type Cluster } from './cluster.js';
import { http, startReplica, within, type Replica } from './replicas.js';

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

  it('SIGTERM while it waits for an unreachable database stops it cleanly (exit 0, nothing started)', async () => {
    // nothing listens on this port: the database wait goes on until the signal
    const url = `postgres://vantage@127.0.0.1:${await freePort()}/nowhere`;
    const replica = await startReplica({ name: 'early', database: url });
    try {
      await waitFor(async () => ((await http(`${replica.url}/health`)).status === 503 ? true : null), { timeoutMs: 15_000, intervalMs: 100, what: '/health 503 while the database is unreachable' });
      const code = await within(replica.kill('SIGTERM'), 10_000, 'the replica to exit after SIGTERM');
      expect(code).toBe(0);
      expect(replica.output()).toContain('stopped during start-up');
      expect(replica.output()).not.toContain('vantage server ready');
    } finally {
      await within(replica.kill('SIGKILL'), 5_000, 'the replica to exit after SIGKILL').catch(() => undefined);
    }
  }, 40_000);

  it('waits for an unreachable database (503 "starting" on /health, retries logged with the host and backoff), then serves', async () => {
    const url = await cluster.createDatabase('startup');
    const pgHost = new URL(url).host;
    await within(cluster.stop(), 20_000, 'pg_ctl stop');
    let replica: Replica | null = null;
    try {
      replica = await startReplica({ name: 'a', database: url });
      const starting = await waitFor(
        async () => {
          const r = await http(`${replica!.url}/health`);
          return r.status === 503 ? r : null;
        },
        { timeoutMs: 15_000, intervalMs: 100, what: '/health 503 while the database is down' },
      );
      expect(starting.body).toMatchObject({ status: 'starting' });
      expect((starting.body as { reason: string }).reason).toContain(`database at ${pgHost} not reachable`);
      // at least three failed attempts, each logged with the host and a growing retry delay (backoff)
      const delays = await waitFor(
        () => {
          const d = [...replica!.output().matchAll(new RegExp(`database at ${pgHost.replace(/[.]/g, '\\.')} not reachable \\(.*?\\); retrying in (\\d+) ms`, 'g'))].map((m) => Number(m[1]));
          return d.length >= 3 ? d : null;
        },
        { timeoutMs: 15_000, intervalMs: 100, what: 'three retries logged with the host' },
      );
      expect(delays[1]!).toBeGreaterThan(delays[0]!);
      expect(delays[2]!).toBeGreaterThan(delays[1]!);
      expect(replica.output()).not.toContain('vantage server ready');
      expect((await http(`${replica.url}/health`)).status).toBe(503);
      await within(cluster.start(), 20_000, 'pg_ctl start');
      // the retry delay is at most 10 s (backoff cap), so the replica connects within about that
      const ok = await waitFor(
        async () => {
          const r = await http(`${replica!.url}/health`);
          return r.status === 200 ? r : null;
        },
        { timeoutMs: 25_000, intervalMs: 100, what: '/health 200 once the database is up' },
      );
      expect(ok.body).toMatchObject({ status: 'healthy' });
      expect(replica.output()).toContain(`connected to the database at ${pgHost}`);
      const r = replica;
      const code = await within(r.kill('SIGTERM'), 15_000, 'the replica to exit after SIGTERM').catch((err: Error) => {
        throw new Error(`${err.message}; its last output:\n${r.output().slice(-3_000)}`);
      });
      expect(code).toBe(0);
    } finally {
      if (replica) await within(replica.kill('SIGKILL'), 5_000, 'the replica to exit after SIGKILL').catch(() => undefined);
    }
    // its own bounded waits add up to at most 20 + 15 + 15 + 20 + 25 + 15 s
  }, 150_000);
});
