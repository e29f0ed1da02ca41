/**
 * The quorum-across-replicas scenario, run on SQLite (test/alerts/quorum-replicas.test.ts) and PostgreSQL
 * (test/pg/alerts.test.ts): two replicas (two stores opened on one database, each with its own IngestQueue and
 * alert engine); region A's results are ingested by replica 1 only, region B's by replica 2 only, quorum 2.
 * The engines count regions in the store: SQLite passes `regionCounts: 'store'` (its default is memory, one server
 * per file), PostgreSQL runs on its default, which must be the store.
 */
import { expect } from 'vitest';
import { IngestQueue } from '../../src/monitoring/control/ingest.js';
import { startAlerts, type Alerts } from '../../src/monitoring/alerts/index.js';
import type { RegionCountsMode } from '../../src/monitoring/alerts/engine.js';
import type { OpenedStore } from '../../src/store/index.js';
import { alertsConfig, monitorWithJobs } from './harness.js';

const T0 = 1_800_000_000_000;

interface Side {
  ingest: IngestQueue;
  alerts: Alerts;
}

export async function quorumAcrossReplicas(one: OpenedStore, two: OpenedStore, opts: { regionCounts?: RegionCountsMode } = {}): Promise<void> {
  let clock = T0;
  const config = alertsConfig({
    alert_region_quorum: 2,
    alert_channels: [{ name: 'hook', type: 'webhook', default: true, enabled: true, settings: { url: 'http://127.0.0.1:9/unused', secret: 'k' } }],
  });
  const side = async (s: OpenedStore): Promise<Side> => {
    const ingest = new IngestQueue({ store: s.monitoring, now: () => clock });
    const alerts = await startAlerts({ config, alerts: s.alerts, monitoring: s.monitoring, now: () => clock, onStored: (l) => ingest.onStored(l), loops: false, ...opts });
    expect(alerts.engine.regionCounts).toBe('store');
    return { ingest, alerts };
  };
  const runs = Array.from({ length: 12 }, (_, i) => T0 + i * 30_000);
  const both = await monitorWithJobs(one.monitoring, { id: 'mon_q2', name: 'q2', regions: ['a', 'b'], runs, now: T0 });
  const lone = await monitorWithJobs(one.monitoring, { id: 'mon_q1', name: 'q1', regions: ['a', 'b'], runs: runs.map((t) => t + 1), now: T0 });
  const r1 = await side(one);
  const r2 = await side(two);
  try {
    const feed = async (m: typeof both, r: Side, region: string, seq: string): Promise<void> => {
      for (const c of seq) {
        clock = Math.max(clock, await m.run(r.ingest, region, c === 'd' ? 'down' : 'up'));
        await r.alerts.engine.flush();
      }
    };
    // Only region A fails (replica 1); B passes (replica 2): one failing region of two is below the quorum.
    await feed(lone, r1, 'a', 'ddddd');
    await feed(lone, r2, 'b', 'uuuuu');
    await feed(lone, r1, 'a', 'ddd');
    expect(await one.alerts.listIncidents({ monitorIds: ['mon_q1'] })).toHaveLength(0);
    expect(await one.alerts.listOutbox({})).toHaveLength(0);

    // Both fail, each seen by a different replica: the replica that sees the deciding run counts both regions.
    await feed(both, r1, 'a', 'ddd');
    expect(await one.alerts.listIncidents({ monitorIds: ['mon_q2'] })).toHaveLength(0);
    await feed(both, r2, 'b', 'dd');
    expect(await one.alerts.listIncidents({ monitorIds: ['mon_q2'] })).toHaveLength(0);
    await feed(both, r2, 'b', 'd');
    const opened = await two.alerts.listIncidents({ monitorIds: ['mon_q2'] });
    expect(opened).toHaveLength(1);
    expect(opened[0]!.resolvedAt).toBeNull();
    // More failures on either side open nothing more.
    await feed(both, r1, 'a', 'dd');
    await feed(both, r2, 'b', 'dd');
    expect(await one.alerts.listIncidents({ monitorIds: ['mon_q2'] })).toHaveLength(1);
    expect((await one.alerts.listOutbox({})).map((o) => o.kind)).toEqual(['down']);

    // Region A recovers on replica 1, which never saw the monitor go down: it resolves the incident once.
    await feed(both, r1, 'a', 'uu');
    await feed(both, r2, 'b', 'd');
    const after = await one.alerts.listIncidents({ monitorIds: ['mon_q2'] });
    expect(after).toHaveLength(1);
    expect(after[0]!.resolvedAt).not.toBeNull();
    expect((await two.alerts.listOutbox({})).map((o) => o.kind)).toEqual(['down', 'resolved']);
  } finally {
    for (const r of [r1, r2]) {
      await r.alerts.stop();
      await r.ingest.close();
    }
  }
}
