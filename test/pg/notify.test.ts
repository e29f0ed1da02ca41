/**
 * The LISTEN connection (src/store/postgres/notify.ts): one per process however its subscriptions arrive, and
 * none left after close() — a second subscription made while the first connection was still being opened
 * used to open a second connection that close() never ended (a socket that kept a stopped server alive).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgNotifier } from '../../src/store/postgres/notify.js';
import { waitFor } from '../monitoring/helpers.js';
import { sql, startCluster, type Cluster } from './cluster.js';

let cluster: Cluster;
let url: string;
beforeAll(async () => {
  cluster = await startCluster();
  url = await cluster.createDatabase('notify');
});
afterAll(async () => {
  await cluster?.destroy();
});

const listeners = async () =>
  Number((await sql<{ n: string }>(url, `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'vantage-listen'`))[0]!.n);

describe('PgNotifier', () => {
  it('a subscription made while the connection is being opened shares it; close() leaves no connection', async () => {
    for (let i = 0; i < 5; i++) {
      const n = new PgNotifier({ url });
      n.on('vantage_lb', () => undefined);
      // the connect timer (0 ms) has fired: the first connection is being opened now
      await new Promise((r) => setTimeout(r, 1));
      n.on('vantage_jobs', () => undefined);
      await n.ready();
      await new Promise((r) => setTimeout(r, 200));
      expect(await listeners()).toBe(1);
      await n.close();
      await waitFor(async () => (await listeners()) === 0, { timeoutMs: 2_000, what: 'no LISTEN connection after close' });
    }
  });

  it('close() while the first connection is being opened ends that connection too', async () => {
    const n = new PgNotifier({ url });
    n.on('vantage_lb', () => undefined);
    await new Promise((r) => setTimeout(r, 1));
    await n.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(await listeners()).toBe(0);
  });
});
