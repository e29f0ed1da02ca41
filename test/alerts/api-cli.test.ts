/**
 * AlertsService over real HTTP (createWebHandler on a loopback server, API-key auth) and the `vantage alert` /
 * `vantage incident` commands run in-process against it: channels with masked secrets, bad input naming the
 * field, testing a channel (to a real receiver), rules, incidents with acknowledgement and manual updates.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { ConnectError } from '@connectrpc/connect';
import { Code } from '@connectrpc/connect';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWebHandler } from '../../src/api/web/handler.js';
import { alertsClient, registerAlertCommands } from '../../src/cli/alert-command.js';
import { startAlerts, type Alerts } from '../../src/monitoring/alerts/index.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { spec } from '../store/contract/fixtures.js';
import { alertsConfig, Receiver } from './harness.js';

let dir: string;
let opened: OpenedStore;
let alerts: Alerts;
let server: http.Server;
let base: string;
let rx: Receiver;
const KEY = 'key-1';

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-alerts-api-'));
  opened = openSqliteStore(join(dir, 'vantage.db'));
  rx = await new Receiver().start();
  await opened.monitoring.createMonitor(spec({ name: 'api' }), { id: 'mon_api', actor: 't', now: 1, jitterSeed: 1 });
  alerts = await startAlerts({ config: alertsConfig({ alert_channels: [{ name: 'hook', type: 'webhook', default: true, enabled: true, settings: { url: rx.url(), secret: 'topsecret' } }] }), alerts: opened.alerts, monitoring: opened.monitoring, now: () => Date.now(), loops: false });
  const handler = createWebHandler({ store: opened.monitoring, now: () => Date.now(), auth: { server_key: KEY, api_keys: [] }, alerts: { alerts, alertsStore: opened.alerts } });
  server = http.createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await alerts.stop();
  await rx.stop();
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = () => alertsClient({ server: base, apiKey: KEY });

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command().exitOverride();
  registerAlertCommands(program, { out: (t) => out.push(t), err: (t) => err.push(t) });
  process.exitCode = 0;
  await program.parseAsync(['node', 'vantage', ...args, '--server', base, '--api-key', KEY]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('AlertsService and the CLI', () => {
  it('never returns a secret; a masked value sent back keeps the stored one', async () => {
    const { channels } = await client().listChannels({});
    expect(channels).toHaveLength(1);
    expect(channels[0]!.settingsJson).not.toContain('topsecret');
    expect(JSON.parse(channels[0]!.settingsJson)).toEqual({ url: rx.url(), secret: '********', headers: {} });
    const listed = await cli('alert', 'channels', '--json');
    expect(listed.out).not.toContain('topsecret');
    await client().putChannel({ channel: { ...channels[0]!, settingsJson: JSON.stringify({ url: rx.url('/v2'), secret: '********' }) } });
    expect((await opened.alerts.getChannel('hook'))!.settings).toMatchObject({ url: rx.url('/v2'), secret: 'topsecret' });
  });

  it('bad input names the field', async () => {
    const bad = (await client().putChannel({ channel: { id: '', name: 'x', type: 'webhook', settingsJson: '{"url":"nope"}', isDefault: false, enabled: true, source: '' } as never }).catch((e: unknown) => e)) as ConnectError;
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toBe('channel.settings.url: expected an http(s) URL');
    const type = (await client().putChannel({ channel: { id: '', name: 'x', type: 'fax', settingsJson: '{}' } as never }).catch((e: unknown) => e)) as ConnectError;
    expect(type.rawMessage).toMatch(/^channel\.type: expected one of webhook/);
    const rule = (await client().setRule({ monitorId: 'mon_api', overrideJson: '{"failure_threshold":-1}' }).catch((e: unknown) => e)) as ConnectError;
    expect(rule.rawMessage).toBe('override_json.failure_threshold: expected a positive integer');
    const json = (await client().setRule({ monitorId: 'mon_api', overrideJson: '{' }).catch((e: unknown) => e)) as ConnectError;
    expect(json.rawMessage).toBe('override_json: expected a JSON object');
    const inc = (await client().createIncident({ title: 'x', status: 'on fire', impact: 'minor', message: '' } as never).catch((e: unknown) => e)) as ConnectError;
    expect(inc.rawMessage).toMatch(/^status: expected one of investigating/);
    const cliBad = await cli('incident', 'update', 'inc_nope', '--status', 'resolved');
    expect(cliBad.code).toBe(4);
    expect(cliBad.err).toContain('incident inc_nope not found');
  });

  it('`vantage alert test <channel>` delivers a test notification to the receiver', async () => {
    const r = await cli('alert', 'test', 'hook');
    expect(r.code).toBe(0);
    expect(r.out).toBe('ok: HTTP 200');
    expect(rx.got).toHaveLength(1);
    expect(JSON.parse(rx.got[0]!.body)).toMatchObject({ event: 'test' });
    expect(rx.got[0]!.headers['x-vantage-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    rx.status = 500;
    const failed = await cli('alert', 'test', 'hook');
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/^failed: HTTP 500/);
  });

  it('rules: the effective rule, an override through the CLI, and clearing it', async () => {
    const before = JSON.parse((await cli('alert', 'rule', 'mon_api')).out);
    expect(before.rule).toMatchObject({ failure_threshold: 3, success_threshold: 2, region_quorum: 'majority' });
    const set = await cli('alert', 'rule', 'mon_api', '--set', '{"failure_threshold":5,"region_quorum":1}');
    expect(JSON.parse(set.out)).toMatchObject({ failure_threshold: 5, region_quorum: 1 });
    expect(alerts.engine.entry('mon_api')!.rule.failureThreshold).toBe(5);
    await cli('alert', 'rule', 'mon_api', '--clear');
    expect(alerts.engine.entry('mon_api')!.rule.failureThreshold).toBe(3);
    expect((await cli('alert', 'rule', 'mon_nope')).code).toBe(4);
  });

  it('GetRule finds a monitor created after the last catalogue read, and unknown ids reload the catalogue at most once a second', async () => {
    let refreshes = 0;
    const real = alerts.engine.refresh.bind(alerts.engine);
    alerts.engine.refresh = () => (refreshes++, real());
    await opened.monitoring.createMonitor(spec({ name: 'fresh' }), { id: 'mon_fresh', actor: 't', now: 2, jitterSeed: 1 });
    expect(alerts.engine.entry('mon_fresh')).toBeUndefined();
    const t0 = Date.now();
    expect(JSON.parse((await client().getRule({ monitorId: 'mon_fresh' })).ruleJson)).toMatchObject({ failure_threshold: 3 });
    expect(refreshes).toBe(1);
    for (let i = 0; i < 20; i++) {
      const e = (await client().getRule({ monitorId: `mon_nope_${i}` }).catch((x: unknown) => x)) as ConnectError;
      expect(e.code).toBe(Code.NotFound);
    }
    // One read for the first miss, then at most one per second that passed.
    expect(refreshes).toBeLessThanOrEqual(1 + Math.floor((Date.now() - t0) / 1000));
  });

  it('incidents: ack through the CLI (actor recorded), manual incident lifecycle', async () => {
    await opened.alerts.applyTransition({ monitorId: 'mon_api', monitorName: 'api', kind: 'down', expected: 'up', next: 'down', at: Date.now(), firstFailureAt: null, reason: 'x', channelIds: [], details: {} });
    const [inc] = (await client().listIncidents({ openOnly: true })).incidents;
    const ack = await cli('incident', 'ack', inc!.id);
    expect(ack.out).toMatch(/^acknowledged inc_/);
    const shown = await cli('incident', 'show', inc!.id);
    expect(shown.out).toMatch(/acknowledged by/);
    expect(shown.out).toMatch(/alert/);
    const created = await cli('incident', 'create', '--title', 'Payments degraded', '--impact', 'major', '--message', 'Investigating');
    const id = created.out.replace('created ', '');
    for (const st of ['identified', 'monitoring', 'resolved']) expect((await cli('incident', 'update', id, '--status', st, '--message', st)).out).toBe(`${id} is now ${st}`);
    const m = (await client().getIncident({ id })).incident!;
    expect(m.resolvedAtMs).toBeGreaterThan(0n);
    expect(m.timeline.map((e) => e.status)).toEqual(['investigating', 'identified', 'monitoring', 'resolved']);
    expect((await cli('incident', 'list')).out.split('\n')).toHaveLength(3);
  });
});
