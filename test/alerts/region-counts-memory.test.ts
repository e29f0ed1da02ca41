/**
 * On SQLite (one server per file) the engine keeps region counts in memory by default: thresholds, hysteresis and
 * quorum judged in one process over every region, with nothing written per run to alert_region_state.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestQueue } from '../../src/monitoring/control/ingest.js';
import { startAlerts } from '../../src/monitoring/alerts/index.js';
import { defaultRegionCounts } from '../../src/monitoring/alerts/engine.js';
import { openSqliteStore } from '../../src/store/index.js';
import { alertsConfig, monitorWithJobs } from './harness.js';

const T0 = 1_800_000_000_000;

describe('region counts in memory (SQLite default)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('is the SQLite default and alerts on thresholds and quorum in one process, writing no region rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vantage-memcounts-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'vantage.db');
    const store = openSqliteStore(file);
    cleanups.push(() => store.close());
    expect(store.alerts.sharedByReplicas).toBe(false);
    expect(defaultRegionCounts(store.alerts)).toBe('memory');

    let clock = T0;
    const ingest = new IngestQueue({ store: store.monitoring, now: () => clock });
    cleanups.push(() => ingest.close());
    const config = alertsConfig({
      alert_region_quorum: 2,
      alert_failure_threshold: 3,
      alert_success_threshold: 2,
      alert_channels: [{ name: 'hook', type: 'webhook', default: true, enabled: true, settings: { url: 'http://127.0.0.1:9/unused', secret: 'k' } }],
    });
    const runs = Array.from({ length: 14 }, (_, i) => T0 + i * 30_000);
    const m = await monitorWithJobs(store.monitoring, { id: 'mon_mem', name: 'mem', regions: ['a', 'b', 'c'], runs, now: T0 });
    const alerts = await startAlerts({ config, alerts: store.alerts, monitoring: store.monitoring, now: () => clock, onStored: (l) => ingest.onStored(l), loops: false });
    cleanups.push(() => alerts.stop());
    expect(alerts.engine.regionCounts).toBe('memory');

    const feed = async (region: string, seq: string): Promise<void> => {
      for (const c of seq) {
        clock = Math.max(clock, await m.run(ingest, region, c === 'd' ? 'down' : 'up'));
        await alerts.engine.flush();
      }
    };
    const incidents = () => store.alerts.listIncidents({ monitorIds: ['mon_mem'] });
    const kinds = async () => (await store.alerts.listOutbox({})).map((o) => o.kind);

    // Below the failure threshold, and a flip inside it, fail nothing.
    await feed('a', 'ddudd');
    await feed('b', 'dd');
    expect(await incidents()).toHaveLength(0);
    // Region A fails (3 in a row); one failing region of three is below quorum 2.
    await feed('a', 'd');
    expect(await incidents()).toHaveLength(0);
    expect(alerts.engine.status('mon_mem')).toBe('up');
    // B's third failure in a row: two regions failing, the quorum → down, one incident, one outbox row.
    await feed('b', 'd');
    expect(alerts.engine.status('mon_mem')).toBe('down');
    const opened = await incidents();
    expect(opened).toHaveLength(1);
    expect(opened[0]!.resolvedAt).toBeNull();
    expect(await kinds()).toEqual(['down']);
    // C passing and more failures change nothing.
    await feed('c', 'uu');
    await feed('a', 'd');
    expect(await incidents()).toHaveLength(1);
    // One pass of A is below the success threshold; the second clears A → one failing region → resolved.
    await feed('a', 'u');
    expect(alerts.engine.status('mon_mem')).toBe('down');
    await feed('a', 'u');
    expect(alerts.engine.status('mon_mem')).toBe('up');
    const after = await incidents();
    expect(after).toHaveLength(1);
    expect(after[0]!.resolvedAt).not.toBeNull();
    expect(await kinds()).toEqual(['down', 'resolved']);

    // Nothing was counted in the store: the counts lived in this process.
    const raw = new Database(file, { readonly: true });
    try {
      expect((raw.prepare('SELECT COUNT(*) AS n FROM alert_region_state').get() as { n: number }).n).toBe(0);
    } finally {
      raw.close();
    }
  });
});
