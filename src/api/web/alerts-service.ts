/** The Connect implementation of vantage.v1.AlertsService: channels (secrets masked), rules, incidents. */
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { z } from 'zod';
import type { AlertsService, Channel, Incident } from '../../gen/vantage/v1/alerts_pb.js';
import type { Alerts } from '../../monitoring/alerts/index.js';
import { maskSettings, parseChannelSettings, unmaskSettings } from '../../monitoring/alerts/channels/index.js';
import { RuleOverrideSchema, type AlertRule } from '../../monitoring/alerts/rules.js';
import { randomId } from '../../platform/ids.js';
import { CHANNEL_TYPES, INCIDENT_IMPACTS, INCIDENT_STATUSES, type AlertsStore, type ChannelRecord, type IncidentRecord } from '../../store/alerts.js';
import { kActor } from './service.js';

export interface AlertsServiceDeps {
  alerts: Alerts;
  alertsStore: AlertsStore;
  now: () => number;
}

const invalid = (m: string): ConnectError => new ConnectError(m, Code.InvalidArgument);
const notFound = (what: string): ConnectError => new ConnectError(`${what} not found`, Code.NotFound);

function firstIssue(err: z.ZodError, prefix: string): string {
  const i = err.issues[0]!;
  return `${[prefix, ...i.path].filter((p) => p !== '').join('.')}: ${i.message}`;
}

function parseJsonField(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid(`${field}: expected a JSON object`);
  }
}

const ChannelInput = z.object({
  name: z.string().trim().min(1, { error: 'expected a channel name' }).max(100, { error: 'expected at most 100 characters' }),
  type: z.enum(CHANNEL_TYPES, { error: `expected one of ${CHANNEL_TYPES.join(', ')}` }),
});

const IncidentInput = z.object({
  title: z.string().trim().min(1, { error: 'expected a title' }).max(200, { error: 'expected at most 200 characters' }),
  status: z.enum(INCIDENT_STATUSES, { error: `expected one of ${INCIDENT_STATUSES.join(', ')}` }),
  impact: z.enum(INCIDENT_IMPACTS, { error: `expected one of ${INCIDENT_IMPACTS.join(', ')}` }),
  message: z.string().max(5000, { error: 'expected at most 5000 characters' }),
});
const UpdateInput = IncidentInput.pick({ status: true, message: true });

export function channelToProto(c: ChannelRecord): Channel {
  return { $typeName: 'vantage.v1.Channel', id: c.id, name: c.name, type: c.type, settingsJson: JSON.stringify(maskSettings(c.type, c.settings)), isDefault: c.isDefault, enabled: c.enabled, source: c.source } as Channel;
}

export function incidentToProto(i: IncidentRecord): Incident {
  return {
    $typeName: 'vantage.v1.Incident',
    id: i.id,
    kind: i.kind,
    title: i.title,
    status: i.status,
    impact: i.impact,
    monitorIds: i.monitorIds,
    statusPageSlug: i.statusPageSlug ?? '',
    startedAtMs: BigInt(i.startedAt),
    resolvedAtMs: BigInt(i.resolvedAt ?? 0),
    acknowledgedAtMs: BigInt(i.acknowledgedAt ?? 0),
    acknowledgedBy: i.acknowledgedBy ?? '',
    timeline: i.timeline.map((e) => ({ $typeName: 'vantage.v1.TimelineEntry', atMs: BigInt(e.at), kind: e.kind, status: e.status, message: e.message })),
  } as Incident;
}

/** The effective rule in the snake_case shape of server.yml. */
export function ruleToJson(r: AlertRule): Record<string, unknown> {
  return {
    failure_threshold: r.failureThreshold,
    success_threshold: r.successThreshold,
    region_quorum: r.regionQuorum ?? 'majority',
    reminder_interval_ms: r.reminderIntervalMs,
    max_reminders: r.maxReminders,
    depends_on: r.dependsOn,
    degraded_latency_ms: r.degradedLatencyMs,
    degraded_window_ms: r.degradedWindowMs,
    channels: r.channels,
  };
}

/** GetRule re-reads the rule catalogue for an id it does not know at most this often. */
const MISS_REFRESH_MS = 1_000;

export function createAlertsServiceImpl(d: AlertsServiceDeps): ServiceImpl<typeof AlertsService> {
  const store = d.alertsStore;
  const refresh = () => d.alerts.engine.refresh();
  let lastMissRefresh = -Infinity;
  const incident = async (id: string) => {
    const i = await store.getIncident(id);
    if (!i) throw notFound(`incident ${id}`);
    return { incident: incidentToProto(i) };
  };
  return {
    async listChannels() {
      return { channels: (await store.listChannels()).map(channelToProto) };
    },
    async putChannel(req) {
      const c = req.channel;
      if (!c) throw invalid('channel: required');
      const base = ChannelInput.safeParse({ name: c.name, type: c.type });
      if (!base.success) throw invalid(firstIssue(base.error, 'channel'));
      const existing = c.id !== '' ? await store.getChannel(c.id) : null;
      if (c.id !== '' && !existing) throw notFound(`channel ${c.id}`);
      const other = await store.getChannel(base.data.name);
      if (other && other.id !== existing?.id) throw new ConnectError(`channel.name: "${base.data.name}" is taken`, Code.AlreadyExists);
      let settings = parseJsonField(c.settingsJson || '{}', 'channel.settings_json') as Record<string, unknown>;
      if (existing && existing.type === base.data.type) settings = unmaskSettings(base.data.type, settings, existing.settings);
      const parsed = parseChannelSettings(base.data.type, settings);
      if (parsed.error) throw invalid(`channel.${parsed.error}`);
      const saved = await store.upsertChannel({ id: existing?.id ?? randomId('chn_', 12), name: base.data.name, type: base.data.type, settings: parsed.settings!, isDefault: c.isDefault, enabled: c.enabled, source: 'api' }, d.now());
      await refresh();
      return { channel: channelToProto(saved) };
    },
    async deleteChannel(req) {
      if (!(await store.deleteChannel(req.id))) throw notFound(`channel ${req.id}`);
      await refresh();
      return {};
    },
    async testChannel(req) {
      if (!(await store.getChannel(req.id))) throw notFound(`channel ${req.id}`);
      try {
        return { ok: true, detail: await d.alerts.testChannel(req.id) };
      } catch (err) {
        return { ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
    },
    async getRule(req) {
      // A monitor created a moment ago may not be in the catalogue yet (it refreshes after each change): read it
      // again, at most once a second, so unknown ids from a reader cannot keep the server reloading it.
      if (!d.alerts.engine.entry(req.monitorId) && d.now() - lastMissRefresh >= MISS_REFRESH_MS) {
        lastMissRefresh = d.now();
        await refresh();
      }
      const e = d.alerts.engine.entry(req.monitorId);
      if (!e) throw notFound(`monitor ${req.monitorId}`);
      const own = (await store.listRules()).get(req.monitorId);
      return { ruleJson: JSON.stringify(ruleToJson(e.rule)), overrideJson: own ? JSON.stringify(own) : '' };
    },
    async setRule(req) {
      if (!d.alerts.engine.entry(req.monitorId)) {
        await refresh();
        if (!d.alerts.engine.entry(req.monitorId)) throw notFound(`monitor ${req.monitorId}`);
      }
      if (req.overrideJson.trim() === '') await store.putRule(req.monitorId, null, d.now());
      else {
        const p = RuleOverrideSchema.safeParse(parseJsonField(req.overrideJson, 'override_json'));
        if (!p.success) throw invalid(firstIssue(p.error, 'override_json'));
        await store.putRule(req.monitorId, p.data as Record<string, unknown>, d.now());
      }
      await refresh();
      return { ruleJson: JSON.stringify(ruleToJson(d.alerts.engine.entry(req.monitorId)!.rule)) };
    },
    async listIncidents(req) {
      const list = await store.listIncidents({
        ...(req.monitorIds.length > 0 ? { monitorIds: req.monitorIds } : {}),
        ...(req.openOnly ? { open: true } : {}),
        ...(req.sinceMs > 0n ? { since: Number(req.sinceMs) } : {}),
        limit: req.limit > 0 ? Math.min(req.limit, 1000) : 100,
      });
      return { incidents: list.map(incidentToProto) };
    },
    getIncident: (req) => incident(req.id),
    async acknowledgeIncident(req, ctx: HandlerContext) {
      const i = await store.acknowledge(req.id, ctx.values.get(kActor), d.now());
      if (!i) throw notFound(`incident ${req.id}`);
      return { incident: incidentToProto(i) };
    },
    async createIncident(req) {
      const p = IncidentInput.safeParse({ title: req.title, status: req.status || 'investigating', impact: req.impact || 'minor', message: req.message });
      if (!p.success) throw invalid(firstIssue(p.error, ''));
      const i = await store.createManualIncident({ ...p.data, monitorIds: req.monitorIds, statusPageSlug: req.statusPageSlug === '' ? null : req.statusPageSlug, at: d.now() });
      return { incident: incidentToProto(i) };
    },
    async updateIncident(req) {
      const p = UpdateInput.safeParse({ status: req.status, message: req.message });
      if (!p.success) throw invalid(firstIssue(p.error, ''));
      const i = await store.updateIncident(req.id, { ...p.data, at: d.now() });
      if (!i) throw notFound(`incident ${req.id}`);
      return { incident: incidentToProto(i) };
    },
  };
}
