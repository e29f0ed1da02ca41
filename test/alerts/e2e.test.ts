/**
 * Alerts end to end on a real SQLite file: results go through the real IngestQueue, the engine writes incidents
 * and outbox rows, the sender delivers to a real HTTP receiver and a real SMTP server on loopback. The sender's
 * clock is injected (retries are due by the fake clock, not by waiting); the loops are off and each test drives
 * the passes, so nothing here waits on a timer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IngestQueue } from '../../src/monitoring/control/ingest.js';
import { startAlerts, type Alerts, type AlertsConfig, type MaintenanceCalendar } from '../../src/monitoring/alerts/index.js';
import { signature } from '../../src/monitoring/alerts/channels/webhook.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { alertsConfig, monitorWithJobs, Receiver, SmtpReceiver } from './harness.js';

const T0 = 1_800_000_000_000;
let dir: string;
let opened: OpenedStore;
let hook: Receiver;
let smtp: SmtpReceiver;
let ingest: IngestQueue;
let clock: number;
const running: Alerts[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-alerts-'));
  opened = openSqliteStore(join(dir, 'vantage.db'));
  hook = await new Receiver().start();
  smtp = await new SmtpReceiver().start();
  clock = T0;
  ingest = new IngestQueue({ store: opened.monitoring, now: () => clock });
});
afterEach(async () => {
  for (const a of running.splice(0)) await a.stop();
  await ingest.close();
  await hook.stop();
  await smtp.stop();
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(over: Partial<AlertsConfig> = {}): AlertsConfig {
  return alertsConfig({
    smtp_host: '127.0.0.1',
    smtp_port: smtp.port,
    smtp_from: 'vantage@example.test',
    alert_retry_base_ms: 1000,
    alert_retry_max_ms: 8000,
    alert_channels: [
      { name: 'hook', type: 'webhook', default: true, enabled: true, settings: { url: hook.url(), secret: 's3cret' } },
      { name: 'ops-mail', type: 'email', default: true, enabled: true, settings: { to: ['ops@example.test'] } },
    ],
    ...over,
  });
}

async function start(over: Partial<AlertsConfig> = {}, maintenance?: MaintenanceCalendar): Promise<Alerts> {
  const a = await startAlerts({ config: config(over), alerts: opened.alerts, monitoring: opened.monitoring, now: () => clock, onStored: (l) => ingest.onStored(l), maintenance, loops: false });
  running.push(a);
  return a;
}

const runs = (n: number) => Array.from({ length: n }, (_, i) => T0 + i * 30_000);

/** Feeds `seq` ("d"/"u") for `region`, advancing the clock to each run, then writes and sends what it caused. */
async function feed(a: Alerts, m: Awaited<ReturnType<typeof monitorWithJobs>>, region: string, seq: string): Promise<void> {
  for (const c of seq) {
    clock = Math.max(clock, await m.run(ingest, region, c === 'd' ? 'down' : 'up'));
    await a.engine.flush();
    await a.sender.task.run();
  }
}

describe('alerts end to end (SQLite, real receivers)', () => {
  it('down → one incident, exactly one webhook and one email; recovered → one resolve each', async () => {
    const m = await monitorWithJobs(opened.monitoring, { id: 'mon_api', name: 'api', regions: ['eu'], runs: runs(20), now: T0 });
    const a = await start();
    await a.engine.refresh();
    await feed(a, m, 'eu', 'uudd');
    expect(hook.got).toHaveLength(0);
    await feed(a, m, 'eu', 'dddd');
    const open = await opened.alerts.listIncidents({});
    expect(open).toHaveLength(1);
    expect(open[0]!.status).toBe('investigating');
    expect(hook.got).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    const body = hook.json(0);
    expect(body).toMatchObject({ event: 'down', monitorId: 'mon_api', monitorName: 'api', incidentId: open[0]!.id });
    const h = hook.got[0]!.headers;
    expect(h['x-vantage-idempotency-key']).toBe(body['idempotencyKey']);
    expect(h['x-vantage-signature']).toBe(signature('s3cret', String(h['x-vantage-timestamp']), hook.got[0]!.body));
    expect(smtp.mails[0]!.to).toEqual(['ops@example.test']);
    expect(smtp.mails[0]!.raw).toMatch(/Subject: .*api_is_DOWN/);

    await feed(a, m, 'eu', 'uuuu');
    expect(hook.got.map((g) => JSON.parse(g.body).event)).toEqual(['down', 'resolved']);
    expect(smtp.mails).toHaveLength(2);
    expect(smtp.mails[1]!.raw).toMatch(/api is back UP/);
    const done = (await opened.alerts.getIncident(open[0]!.id))!;
    expect(done.status).toBe('resolved');
    expect(done.resolvedAt).not.toBeNull();
    const kinds = done.timeline.map((e) => e.kind);
    expect(kinds.slice(0, 2)).toEqual(['first_failure', 'alert']);
    expect(kinds.filter((k) => k === 'notification')).toHaveLength(4);
    expect(kinds).toContain('resolved');
    expect(done.timeline[0]!.at).toBe(T0 + 2 * 30_000); // the first failed run
    // Nothing else is pending or left to send.
    expect(await a.sender.task.run()).toBe(0);
    expect((await opened.alerts.listOutbox({ status: 'delivered' })).length).toBe(4);
  });

  it('two regions, quorum 2, one failing alone → nothing; both failing → one alert', async () => {
    const m = await monitorWithJobs(opened.monitoring, { id: 'mon_two', name: 'two', regions: ['eu', 'us'], runs: runs(12), now: T0 });
    const a = await start({ alert_region_quorum: 2 });
    await feed(a, m, 'eu', 'dddddd');
    await feed(a, m, 'us', 'uuuuuu');
    expect(await opened.alerts.listIncidents({})).toHaveLength(0);
    expect(await opened.alerts.listOutbox({})).toHaveLength(0);
    expect(hook.got).toHaveLength(0);
    await feed(a, m, 'us', 'ddd');
    expect(hook.got).toHaveLength(1);
    expect(hook.json(0)['failingRegions']).toEqual(['eu', 'us']);
  });

  it('during maintenance → nothing, not even after the window when the target recovered inside it', async () => {
    const m = await monitorWithJobs(opened.monitoring, { id: 'mon_mnt', name: 'mnt', regions: ['eu'], runs: runs(12), now: T0 });
    let windowOpen = true;
    const calendar: MaintenanceCalendar = { activeFor: (id, at) => (windowOpen && id === 'mon_mnt' && at >= T0 ? { id: 'mw1', title: 'upgrade', endsAt: T0 + 3_600_000 } : null) };
    const a = await start({}, calendar);
    await feed(a, m, 'eu', 'ddddddduu');
    windowOpen = false;
    a.engine.tickAll();
    await a.engine.flush();
    await a.sender.task.run();
    expect(await opened.alerts.listIncidents({})).toHaveLength(0);
    expect(hook.got).toHaveLength(0);
    expect(smtp.mails).toHaveLength(0);
  });

  it('a receiver down for a while gets each event exactly once after it returns (retries on the injected clock)', async () => {
    const m = await monitorWithJobs(opened.monitoring, { id: 'mon_out', name: 'out', regions: ['eu'], runs: runs(12), now: T0 });
    const a = await start();
    await hook.stop();
    await feed(a, m, 'eu', 'ddd');
    await feed(a, m, 'eu', 'uu');
    expect(hook.got).toHaveLength(0);
    expect(smtp.mails).toHaveLength(2); // email was up all along
    let pending = await opened.alerts.listOutbox({ status: 'pending' });
    expect(pending).toHaveLength(2);
    expect(pending[0]!.lastError).toMatch(/ECONNREFUSED/);
    // 30 s of outage on the sender's clock: passes at every second, retries only when due (backoff 1, 2, 4, 8, 8 … s).
    const attemptsBefore = pending.map((p) => p.attempts);
    for (let i = 0; i < 30; i++) {
      clock += 1000;
      await a.sender.task.run();
    }
    pending = await opened.alerts.listOutbox({ status: 'pending' });
    const retries = pending.map((p, i) => p.attempts - attemptsBefore[i]!);
    expect(retries.every((r) => r >= 3 && r <= 6)).toBe(true);
    await hook.start();
    clock += 10_000;
    await a.sender.task.run();
    clock += 10_000;
    await a.sender.task.run();
    expect(hook.got.map((g) => JSON.parse(g.body).event)).toEqual(['down', 'resolved']);
    expect(new Set(hook.got.map((g) => g.headers['x-vantage-idempotency-key'])).size).toBe(2);
    expect(smtp.mails).toHaveLength(2);
    const inc = (await opened.alerts.listIncidents({}))[0]!;
    expect(inc.timeline.filter((e) => e.message.includes('failed, will retry')).length).toBeGreaterThanOrEqual(6);
  });

  it('a sender that is not the leader sends nothing; the leader sends it', async () => {
    const m = await monitorWithJobs(opened.monitoring, { id: 'mon_ldr', name: 'ldr', regions: ['eu'], runs: runs(6), now: T0 });
    let leader = false;
    const a = await startAlerts({ config: config(), alerts: opened.alerts, monitoring: opened.monitoring, now: () => clock, onStored: (l) => ingest.onStored(l), leader: () => leader, loops: false });
    running.push(a);
    await feed(a, m, 'eu', 'ddd');
    expect(hook.got).toHaveLength(0);
    leader = true;
    expect(await a.sender.task.run()).toBe(2);
    expect(hook.got).toHaveLength(1);
  });

  it('two replicas evaluating the same results over one database write one incident and one notification per channel', async () => {
    const m = await monitorWithJobs(opened.monitoring, { id: 'mon_dup', name: 'dup', regions: ['eu'], runs: runs(8), now: T0 });
    const a = await start();
    const b = await start();
    await feed(a, m, 'eu', 'ddd'); // both engines listen on the same ingest: both see the change
    await b.engine.flush();
    await Promise.all([a.sender.task.run(), b.sender.task.run()]);
    expect(await opened.alerts.listIncidents({})).toHaveLength(1);
    expect(await opened.alerts.listOutbox({})).toHaveLength(2);
    expect(hook.got).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
  });

  it('a child is not alerted while its parent is down', async () => {
    const parent = await monitorWithJobs(opened.monitoring, { id: 'mon_db', name: 'db', regions: ['eu'], runs: runs(6), now: T0 });
    const child = await monitorWithJobs(opened.monitoring, { id: 'mon_app', name: 'app', regions: ['eu'], runs: runs(6).map((t) => t + 1), now: T0 });
    const a = await start({ alert_rules: [{ monitor: 'app', depends_on: ['db'] }] });
    await feed(a, parent, 'eu', 'ddd');
    await feed(a, child, 'eu', 'ddd');
    const incidents = await opened.alerts.listIncidents({});
    expect(incidents.map((i) => i.monitorIds)).toEqual([['mon_db']]);
  });

  it('acknowledgement and manual incidents go into the timeline; the IncidentReader shows public updates only', async () => {
    const m = await monitorWithJobs(opened.monitoring, { id: 'mon_ack', name: 'ack', regions: ['eu'], runs: runs(6), now: T0 });
    const a = await start();
    await feed(a, m, 'eu', 'ddd');
    const [inc] = await opened.alerts.listIncidents({ open: true });
    const acked = await opened.alerts.acknowledge(inc!.id, 'alice', clock + 5);
    expect(acked!.acknowledgedBy).toBe('alice');
    expect((await opened.alerts.acknowledge(inc!.id, 'bob', clock + 6))!.acknowledgedBy).toBe('alice');
    expect(acked!.timeline.filter((e) => e.kind === 'acknowledged')).toHaveLength(1);
    const manual = await opened.alerts.createManualIncident({ title: 'Payments slow', status: 'investigating', impact: 'minor', monitorIds: [], statusPageSlug: 'public', message: 'Looking into it', at: clock + 10 });
    await opened.alerts.updateIncident(manual.id, { status: 'identified', message: 'Card provider issue', at: clock + 20 });
    await opened.alerts.updateIncident(manual.id, { status: 'monitoring', message: 'Fix deployed', at: clock + 30 });
    await opened.alerts.updateIncident(manual.id, { status: 'resolved', message: 'All good', at: clock + 40 });
    const views = await a.incidents.list({ statusPageSlug: 'public' });
    const mv = views.find((v) => v.id === manual.id)!;
    expect(mv.status).toBe('resolved');
    expect(mv.resolvedAt).toBe(clock + 40);
    expect(mv.updates.map((u) => u.status)).toEqual(['investigating', 'identified', 'monitoring', 'resolved']);
    const auto = views.find((v) => v.id === inc!.id)!;
    expect(auto.updates.every((u) => !u.message.includes('alice') && !u.message.includes('via'))).toBe(true);
    expect(await a.incidents.list({ monitorIds: ['mon_ack'] })).toHaveLength(1);
  });

  it('reminders are capped, each delivered once', async () => {
    const m = await monitorWithJobs(opened.monitoring, { id: 'mon_rem', name: 'rem', regions: ['eu'], runs: runs(6), now: T0 });
    const a = await start({ alert_reminder_interval_ms: 60_000, alert_max_reminders: 2 });
    await feed(a, m, 'eu', 'ddd');
    for (let i = 0; i < 10; i++) {
      clock += 60_000;
      a.engine.tickAll();
      await a.engine.flush();
      await a.sender.task.run();
    }
    expect(hook.got.map((g) => `${JSON.parse(g.body).event}${JSON.parse(g.body).reminder ?? ''}`)).toEqual(['down', 'reminder1', 'reminder2']);
  });

  it('a channel declared with bad settings fails start naming the field', async () => {
    await expect(start({ alert_channels: [{ name: 'bad', type: 'webhook', default: true, enabled: true, settings: { url: 'not a url' } }] })).rejects.toThrow(
      'alert_channels[0] (bad).settings.url: expected an http(s) URL',
    );
  });
});
