/**
 * Leader election on PostgreSQL: the advisory lock on a dedicated connection. Two electors on one database;
 * the leader's backend is terminated with pg_terminate_backend and the other takes over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgLeader } from '../../src/store/postgres/leader.js';
import { PeriodicTask } from '../../src/platform/periodic.js';
import { waitFor } from '../monitoring/helpers.js';
import { sql, startCluster, type Cluster } from './cluster.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});


/** The backend pid that holds the leader's advisory lock on this database. */
async function lockHolder(url: string): Promise<number | null> {
  const rows = await sql<{ pid: number }>(
    url,
    `SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return rows[0]?.pid ?? null;
}

describe('PgLeader', () => {
  it('of two electors exactly one leads; killing its connection hands leadership to the other within seconds', async () => {
    const url = await cluster.createDatabase('leader');
    const changes: string[] = [];
    const a = new PgLeader({ url, onChange: (v) => changes.push(`a:${v}`) });
    const b = new PgLeader({ url, onChange: (v) => changes.push(`b:${v}`) });
    try {
      await a.start();
      await b.start();
      expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
      expect(await a.confirm()).toBe(true);
      expect(await b.confirm()).toBe(false);
      // the lock is held by one session: the dedicated connection, not a pooled one
      const pid = await lockHolder(url);
      expect(pid).not.toBeNull();
      expect(await sql(url, 'SELECT application_name FROM pg_stat_activity WHERE pid = $1', [pid])).toEqual([{ application_name: 'vantage-leader' }]);

      const passes: string[] = [];
      const aLoop = new PeriodicTask(() => passes.push('a'), { gate: a });
      expect(await aLoop.run()).toBe(1);

      const killedAt = Date.now();
      await sql(url, 'SELECT pg_terminate_backend($1)', [pid]);
      // the client's error event ends leadership without waiting for the next check
      await waitFor(() => !a.isLeader(), { timeoutMs: 1_000, what: 'a to stop leading' });
      expect(await aLoop.run()).toBeNull();
      await waitFor(() => b.isLeader(), { timeoutMs: 10_000, what: 'b to lead' });
      const failoverMs = Date.now() - killedAt;
      expect(failoverMs).toBeLessThan(5_000);
      expect(await b.confirm()).toBe(true);
      // a reconnects by itself and stays a follower while b holds the lock
      await waitFor(async () => (await sql<{ n: string }>(url, `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'vantage-leader' AND datname = current_database()`))[0]!.n === '2', {
        timeoutMs: 10_000,
        what: 'a to reconnect',
      });
      expect(a.isLeader()).toBe(false);
      expect(await a.confirm()).toBe(false);
      expect(passes).toEqual(['a']);
      expect(changes).toEqual(['a:true', 'a:false', 'b:true']);

      // b steps down cleanly on stop (unlock on its own session), and a takes over
      await b.stop();
      await waitFor(() => a.isLeader(), { timeoutMs: 10_000, what: 'a to lead again' });
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
