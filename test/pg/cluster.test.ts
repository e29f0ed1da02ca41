/** The throwaway-cluster helper itself: it starts, hands out empty databases, and survives a restart. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startCluster, type Cluster } from './cluster.js';

describe('throwaway PostgreSQL cluster', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ owned: true });
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('creates empty databases that accept connections, and comes back after pg_ctl restart', async () => {
    const url = await cluster.createDatabase();
    expect(url).not.toBe(cluster.url);
    const query = async (sql: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return (await c.query(sql)).rows;
      } finally {
        await c.end();
      }
    };
    expect(await query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).toEqual([{ n: 0 }]);
    const v = Number((await query("SHOW server_version_num"))[0]!.server_version_num);
    expect(v).toBeGreaterThanOrEqual(150000);
    await query('CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
    await cluster.restart();
    expect(await query('SELECT x FROM t')).toEqual([{ x: 1 }]);
  });
});
