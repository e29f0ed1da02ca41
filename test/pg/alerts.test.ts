/**
 * Alerts on PostgreSQL with two replicas in this process (two openStore on one database, each with its own pool,
 * its own PgLeader and its own alerts engine and sender) and a real HTTP receiver on loopback. Replica A leads;
 * it is "killed" between the state change and the send (its pools closed without a send, its leader connection
 * ended), B takes over leadership and delivers each event exactly once. A second scenario kills A after it
 * claimed the rows (the claim lease runs out on the injected clock), a third after it delivered but before it
 * recorded the delivery: B resends with the same idempotency key, which the receiver deduplicates on.
 * Three real server processes SIGKILLed: test/pg/alerts-sigkill.test.ts.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IngestQueue } from '../../src/monitoring/control/ingest.js';
import { startAlerts, type Alerts } from '../../src/monitoring/alerts/index.js';
import { webhook } from '../../src/monitoring/alerts/channels/webhook.js';
import type { ChannelDriver } from '../../src/monitoring/alerts/channels/index.js';
import { openStore, type OpenedStore } from '../../src/store/index.js';
import { waitFor } from '../monitoring/helpers.js';
import { alertsConfig, monitorWithJobs, Receiver } from '../alerts/harness.js';
import { quorumAcrossReplicas } from '../alerts/quorum-scenario.js';
import { startCluster, type Cluster } from './cluster.js';

const T0 = 1_800_000_000_000;
let cluster: Cluster;
let rx: Receiver;
beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster?.destroy();
});
beforeEach(async () => {
  rx = await new Receiver().start();
});
afterEach(async () => {
  await rx.stop();
});

interface Replica {
  store: OpenedStore;
  ingest: IngestQueue;
  alerts: Alerts;
}

let clock = T0;
async function replica(url: string, drivers?: Partial<Record<string, ChannelDriver>>): Promise<Replica> {
  const store = await openStore({ database: url, db_max_open_conns: 5 });
  await store.leader.start();
  const ingest = new IngestQueue({ store: store.monitoring, now: () => clock });
  const alerts = await startAlerts({
    config: alertsConfig({ alert_channels: [{ name: 'hook', type: 'webhook', default: true, enabled: true, settings: { url: rx.url(), secret: 'k' } }] }),
    alerts: store.alerts,
    monitoring: store.monitoring,
    now: () => clock,
    leader: store.leader,
    onStored: (l) => ingest.onStored(l),
    loops: false,
    drivers,
  });
  return { store, ingest, alerts };
}

async function kill(r: Replica): Promise<void> {
  await r.store.close();
}

/** Distinct idempotency keys the receiver got, and how many deliveries in all. */
const keys = () => new Set(rx.got.map((g) => String(g.headers['x-vantage-idempotency-key'])));

describe('alerts on PostgreSQL, leader killed', () => {
  it('between the state change and the send: the new leader delivers each event once', async () => {
    clock = T0;
    const url = await cluster.createDatabase('alerts_kill1');
    const a = await replica(url);
    const b = await replica(url);
    expect([a.store.leader.isLeader(), b.store.leader.isLeader()]).toEqual([true, false]);
    const m = await monitorWithJobs(a.store.monitoring, { id: 'mon_k1', name: 'k1', regions: ['eu'], runs: [0, 1, 2].map((i) => T0 + i * 30_000), now: T0 });
    await b.alerts.engine.refresh();
    await a.alerts.engine.refresh();
    for (let i = 0; i < 3; i++) clock = await m.run(a.ingest, 'eu', 'down');
    await a.alerts.engine.flush();
    expect(await a.store.alerts.listOutbox({ status: 'pending' })).toHaveLength(1);
    expect(await b.alerts.sender.task.run()).toBeNull(); // not the leader: sends nothing
    await kill(a);
    await waitFor(async () => (await b.store.leader.confirm?.()) === true, { timeoutMs: 30_000, what: 'B to lead' });
    expect(await b.alerts.sender.task.run()).toBe(1);
    expect(await b.alerts.sender.task.run()).toBe(0);
    expect(rx.got).toHaveLength(1);
    expect(JSON.parse(rx.got[0]!.body).event).toBe('down');
    await b.alerts.stop();
    await b.ingest.close();
    await b.store.close();
  });

  it('after claiming: the claim runs out and the new leader delivers once; after delivering: the resend carries the same key', async () => {
    clock = T0;
    const url = await cluster.createDatabase('alerts_kill2');
    // A's webhook driver delivers, then "dies" before the delivery is recorded (the promise never settles).
    const dying: ChannelDriver = { ...(webhook as unknown as ChannelDriver), send: async (s, n, c) => {
      await (webhook as unknown as ChannelDriver).send(s, n, c);
      return new Promise<string>(() => undefined);
    } };
    const a = await replica(url, { webhook: dying });
    const b = await replica(url);
    const m = await monitorWithJobs(a.store.monitoring, { id: 'mon_k2', name: 'k2', regions: ['eu'], runs: [0, 1, 2].map((i) => T0 + i * 30_000), now: T0 });
    await a.alerts.engine.refresh();
    for (let i = 0; i < 3; i++) clock = await m.run(a.ingest, 'eu', 'down');
    await a.alerts.engine.flush();
    void a.alerts.sender.task.run();
    await waitFor(() => rx.got.length === 1, { what: 'A to deliver' });
    await kill(a).catch(() => undefined);
    await waitFor(async () => (await b.store.leader.confirm?.()) === true, { timeoutMs: 30_000, what: 'B to lead' });
    // The claim is A's until its lease (2 × send timeout + 5 s) runs out on the sender's clock.
    expect(await b.alerts.sender.task.run()).toBe(0);
    clock += 2 * 10_000 + 5_000;
    expect(await b.alerts.sender.task.run()).toBe(1);
    expect(await b.alerts.sender.task.run()).toBe(0);
    expect(rx.got).toHaveLength(2);
    expect(keys().size).toBe(1); // one event, recognisable by its idempotency key
    expect((await b.store.alerts.listOutbox({ status: 'delivered' }))).toHaveLength(1);
    await b.alerts.stop();
    await b.ingest.close();
    await b.store.close();
  });

  it('two leaders-to-be racing over the same due rows deliver each once (SKIP LOCKED claims)', async () => {
    clock = T0;
    const url = await cluster.createDatabase('alerts_race');
    const a = await replica(url);
    const b = await replica(url);
    const monitors = [];
    for (let i = 0; i < 20; i++) monitors.push(await monitorWithJobs(a.store.monitoring, { id: `mon_r${i}`, name: `r${i}`, regions: ['eu'], runs: [0, 1, 2].map((k) => T0 + k * 30_000 + i), now: T0 }));
    await a.alerts.engine.refresh();
    await b.alerts.engine.refresh();
    for (const m of monitors) for (let k = 0; k < 3; k++) clock = Math.max(clock, await m.run(a.ingest, 'eu', 'down'));
    await a.alerts.engine.flush();
    // Both passes run ungated (as if both believed they lead for a moment).
    await Promise.all([a.alerts.sender.pass(), b.alerts.sender.pass()]);
    expect(rx.got).toHaveLength(20);
    expect(keys().size).toBe(20);
    for (const r of [a, b]) {
      await r.alerts.stop();
      await r.ingest.close();
      await r.store.close();
    }
  });
});

describe('region quorum across replicas (PostgreSQL)', () => {
  it('region A on replica 1, region B on replica 2, quorum 2: one incident when both fail, none when only one does', async () => {
    const url = await cluster.createDatabase('alerts_quorum');
    const one = await openStore({ database: url, db_max_open_conns: 4 });
    const two = await openStore({ database: url, db_max_open_conns: 4 });
    try {
      await quorumAcrossReplicas(one, two);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
