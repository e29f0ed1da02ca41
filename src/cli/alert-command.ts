/**
 * `vantage alert …` (channels, test a channel, rules) and `vantage incident …` (list, show, ack, open a manual
 * incident, post an update) against a running server's AlertsService. Exit codes as `vantage monitor`.
 */
import type { Client } from '@connectrpc/connect';
import type { Command } from 'commander';
import { AlertsService, type Incident } from '../gen/vantage/v1/alerts_pb.js';
import { parsePositiveDurationFlag } from '../platform/duration.js';
import { failure, stdio, toJson, type CommonOptions, type MonitorCliIo } from './monitor.js';
import { connectOptions, serviceClient, table } from './connect-client.js';

export function alertsClient(o: CommonOptions): Client<typeof AlertsService> {
  return serviceClient(AlertsService, { server: o.server, apiKey: o.apiKey, timeoutMs: o.timeout !== undefined ? parsePositiveDurationFlag('--timeout', o.timeout) : 15_000 });
}

const iso = (ms: bigint): string => (ms > 0n ? new Date(Number(ms)).toISOString() : '-');

export function formatIncident(i: Incident): string {
  const head = [
    `${i.id}  ${i.title}`,
    `status ${i.status}  impact ${i.impact}  ${i.kind}  started ${iso(i.startedAtMs)}  resolved ${iso(i.resolvedAtMs)}`,
    i.acknowledgedAtMs > 0n ? `acknowledged by ${i.acknowledgedBy} at ${iso(i.acknowledgedAtMs)}` : 'not acknowledged',
  ];
  return [...head, '', ...i.timeline.map((e) => `${iso(e.atMs)}  ${e.kind.padEnd(13)} ${e.message}`)].join('\n');
}

async function run(io: MonitorCliIo, fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
    return 0;
  } catch (err) {
    return failure(err, io);
  }
}

export async function runTestChannel(channel: string, o: CommonOptions, io: MonitorCliIo = stdio): Promise<number> {
  try {
    const r = await alertsClient(o).testChannel({ id: channel });
    if (o.json) io.out(toJson(r));
    else (r.ok ? io.out : io.err)(`${r.ok ? 'ok' : 'failed'}: ${r.detail}`);
    return r.ok ? 0 : 1;
  } catch (err) {
    return failure(err, io);
  }
}

export function registerAlertCommands(program: Command, io: MonitorCliIo = stdio): void {
  const common = (c: Command): Command => connectOptions(c, '15s');
  const set = (code: number): void => {
    process.exitCode = code;
  };

  const alert = program.command('alert').description('Notification channels and alert rules (AlertsService).');
  common(alert.command('channels').description('List channels (secrets masked).')).action(async (o: CommonOptions) =>
    set(
      await run(io, async () => {
        const { channels } = await alertsClient(o).listChannels({});
        if (o.json) return io.out(toJson(channels));
        io.out(channels.length === 0 ? 'no channels' : table([['ID', 'NAME', 'TYPE', 'DEFAULT', 'ENABLED', 'SOURCE'], ...channels.map((c) => [c.id, c.name, c.type, String(c.isDefault), String(c.enabled), c.source])]));
      }),
    ),
  );
  common(
    alert
      .command('channel-add')
      .description('Create or replace a channel by name.')
      .requiredOption('--name <name>', 'channel name')
      .requiredOption('--type <type>', 'webhook | slack | discord | email | pagerduty | ntfy | telegram')
      .requiredOption('--settings <json>', 'settings as JSON, e.g. \'{"url":"https://…","secret":"…"}\' (see docs/alerts.md)')
      .option('--default', 'notify this channel for monitors whose rule names no channels')
      .option('--disabled', 'create it disabled'),
  ).action(async (o: CommonOptions & { name: string; type: string; settings: string; default?: boolean; disabled?: boolean }) =>
    set(
      await run(io, async () => {
        const c = alertsClient(o);
        const existing = (await c.listChannels({})).channels.find((x) => x.name === o.name);
        const { channel } = await c.putChannel({ channel: { id: existing?.id ?? '', name: o.name, type: o.type, settingsJson: o.settings, isDefault: o.default === true, enabled: o.disabled !== true, source: 'api' } });
        io.out(o.json ? toJson(channel) : `${existing ? 'updated' : 'created'} ${channel!.id} (${channel!.name})`);
      }),
    ),
  );
  common(alert.command('channel-rm <id>').description('Delete a channel.')).action(async (id: string, o: CommonOptions) =>
    set(
      await run(io, async () => {
        await alertsClient(o).deleteChannel({ id });
        io.out(`deleted ${id}`);
      }),
    ),
  );
  common(alert.command('test <channel>').description('Send a test notification through a channel (id or name).')).action(async (ch: string, o: CommonOptions) => set(await runTestChannel(ch, o, io)));
  common(
    alert
      .command('rule <monitorId>')
      .description("Show a monitor's effective alert rule; --set replaces its own override, --clear removes it.")
      .option('--set <json>', 'override, e.g. \'{"failure_threshold":5,"channels":["ops"]}\'')
      .option('--clear', 'remove the override'),
  ).action(async (monitorId: string, o: CommonOptions & { set?: string; clear?: boolean }) =>
    set(
      await run(io, async () => {
        const c = alertsClient(o);
        if (o.set !== undefined || o.clear) {
          const r = await c.setRule({ monitorId, overrideJson: o.clear ? '' : o.set! });
          return io.out(toJson(JSON.parse(r.ruleJson)));
        }
        const r = await c.getRule({ monitorId });
        io.out(toJson({ rule: JSON.parse(r.ruleJson), override: r.overrideJson ? JSON.parse(r.overrideJson) : null }));
      }),
    ),
  );

  const incident = program.command('incident').description('Incidents: list, show, acknowledge, manual incidents (AlertsService).');
  common(incident.command('list').description('List incidents, newest first.').option('--open', 'only unresolved').option('--monitor <id>', 'only this monitor')).action(
    async (o: CommonOptions & { open?: boolean; monitor?: string }) =>
      set(
        await run(io, async () => {
          const { incidents } = await alertsClient(o).listIncidents({ openOnly: o.open === true, monitorIds: o.monitor ? [o.monitor] : [], sinceMs: 0n, limit: 100 });
          if (o.json) return io.out(toJson(incidents));
          io.out(incidents.length === 0 ? 'no incidents' : table([['ID', 'STATUS', 'IMPACT', 'STARTED', 'ACK', 'TITLE'], ...incidents.map((i) => [i.id, i.status, i.impact, iso(i.startedAtMs), i.acknowledgedBy || '-', i.title])]));
        }),
      ),
  );
  common(incident.command('show <id>').description('An incident with its timeline.')).action(async (id: string, o: CommonOptions) =>
    set(
      await run(io, async () => {
        const { incident: i } = await alertsClient(o).getIncident({ id });
        io.out(o.json ? toJson(i) : formatIncident(i!));
      }),
    ),
  );
  common(incident.command('ack <id>').description('Acknowledge an incident.')).action(async (id: string, o: CommonOptions) =>
    set(
      await run(io, async () => {
        const { incident: i } = await alertsClient(o).acknowledgeIncident({ id });
        io.out(o.json ? toJson(i) : `acknowledged ${i!.id} (by ${i!.acknowledgedBy})`);
      }),
    ),
  );
  common(
    incident
      .command('create')
      .description('Open a manual incident.')
      .requiredOption('--title <text>', 'title')
      .option('--status <status>', 'investigating | identified | monitoring | resolved', 'investigating')
      .option('--impact <impact>', 'none | minor | major | critical', 'minor')
      .option('--message <text>', 'first update', '')
      .option('--monitor <id>', 'affected monitor (repeatable)', (v: string, p: string[] = []) => [...p, v])
      .option('--status-page <slug>', 'show it on this status page only'),
  ).action(async (o: CommonOptions & { title: string; status: string; impact: string; message: string; monitor?: string[]; statusPage?: string }) =>
    set(
      await run(io, async () => {
        const { incident: i } = await alertsClient(o).createIncident({ title: o.title, status: o.status, impact: o.impact, message: o.message, monitorIds: o.monitor ?? [], statusPageSlug: o.statusPage ?? '' });
        io.out(o.json ? toJson(i) : `created ${i!.id}`);
      }),
    ),
  );
  common(incident.command('update <id>').description('Post a status update.').requiredOption('--status <status>', 'investigating | identified | monitoring | resolved').option('--message <text>', 'the update', '')).action(
    async (id: string, o: CommonOptions & { status: string; message: string }) =>
      set(
        await run(io, async () => {
          const { incident: i } = await alertsClient(o).updateIncident({ id, status: o.status, message: o.message });
          io.out(o.json ? toJson(i) : `${i!.id} is now ${i!.status}`);
        }),
      ),
  );
}
