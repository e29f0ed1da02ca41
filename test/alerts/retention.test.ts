/**
 * Retention of alerting on the leader: `alert_outbox_retention_days` and `incident_retention_days`, run by the
 * hourly task of startAlerts (driven here with `retention.run()`, the injected clock and a real SQLite file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAlerts, type Alerts } from '../../src/monitoring/alerts/index.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { alertsConfig } from './harness.js';

const D = 86_400_000;
const T0 = 1_800_000_000_000;
let dir: string;
let opened: OpenedStore;
let running: Alerts[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-alert-retention-'));
  opened = openSqliteStore(join(dir, 'vantage.db'));
  running = [];
});
afterEach(async () => {
  for (const a of running) await a.stop();
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
});

async function incident(monitorId: string, downAt: number, resolvedAt: number | null): Promise<string> {
  const base = { monitorId, monitorName: monitorId, firstFailureAt: null, reason: 'r', channelIds: ['chn_1'], details: {} };
  const d = (await opened.alerts.applyTransition({ ...base, kind: 'down', expected: 'up', next: 'down', at: downAt }))!;
  for (const r of await opened.alerts.claimDue('t', downAt, 10, 1)) await opened.alerts.markDelivered(r.id, downAt, 'ok');
  if (resolvedAt !== null) {
    await opened.alerts.applyTransition({ ...base, kind: 'resolved', expected: 'down', next: 'up', at: resolvedAt });
    for (const r of await opened.alerts.claimDue('t', resolvedAt, 10, 1)) await opened.alerts.markDelivered(r.id, resolvedAt, 'ok');
  }
  return d.incidentId;
}

describe('alert retention (leader, hourly task)', () => {
  it('deletes by the configured days on the leader only; 0 keeps everything', async () => {
    const ancient = await incident('mon_a', T0 - 400 * D, T0 - 399 * D);
    const month = await incident('mon_b', T0 - 45 * D, T0 - 44 * D);
    const open = await incident('mon_c', T0 - 2 * D, null);
    let leading = false;
    const a = await startAlerts({ config: alertsConfig(), alerts: opened.alerts, monitoring: opened.monitoring, now: () => T0, leader: () => leading, loops: false });
    running.push(a);
    expect(await a.retention.run()).toBeNull(); // not the leader: nothing
    expect(await opened.alerts.listOutbox({})).toHaveLength(5);
    leading = true;
    // Defaults: outbox 30 days, incidents 365 days.
    expect(await a.retention.run()).toEqual({ outbox: 4, incidents: 1 });
    expect((await opened.alerts.listIncidents({})).map((i) => i.id).sort()).toEqual([month, open].sort());
    expect(await opened.alerts.getIncident(ancient)).toBeNull();
    expect((await opened.alerts.listOutbox({})).map((r) => r.incidentId)).toEqual([open]);

    const keep = await startAlerts({ config: alertsConfig({ alert_outbox_retention_days: 0, incident_retention_days: 0 }), alerts: opened.alerts, monitoring: opened.monitoring, now: () => T0 + 1000 * D, loops: false });
    running.push(keep);
    expect(await keep.retention.run()).toEqual({ outbox: 0, incidents: 0 });
    const short = await startAlerts({ config: alertsConfig({ incident_retention_days: 30 }), alerts: opened.alerts, monitoring: opened.monitoring, now: () => T0, loops: false });
    running.push(short);
    expect(await short.retention.run()).toEqual({ outbox: 0, incidents: 1 });
    expect((await opened.alerts.listIncidents({})).map((i) => i.id)).toEqual([open]);
  });
});
