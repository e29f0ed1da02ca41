/**
 * Alerting, composed: channels from server.yml applied, the engine on ingest's stored results, a ticker for
 * reminders, and the outbox sender on the leader. `startAlerts` returns the handle the API and CLI use.
 */
import type { Logger } from 'pino';
import type { ConfigChannel, ConfigRule } from '../../config/alerts.js';
import type { AlertsStore, ChannelRecord, ChannelType } from '../../store/alerts.js';
import type { MonitoringStore, ResultInput } from '../../store/monitoring.js';
import { PeriodicTask, type Gate } from '../../platform/periodic.js';
import { randomId } from '../../platform/ids.js';
import type { Timers } from '../../platform/timers.js';
import type { IngestedJob } from '../control/ingest.js';
import { CHANNELS, ChannelError, parseChannelSettings, type ChannelDriver, type SmtpSettings } from './channels/index.js';
import { incidentReader, type IncidentReader, type MaintenanceCalendar } from './contract.js';
import { AlertEngine, type RegionCountsMode } from './engine.js';
import type { AlertGroup, RuleDefaults } from './rules.js';
import { NotificationSender } from './sender.js';

export type AlertsConfig = RuleDefaults &
  SmtpSettings & {
    alert_groups: AlertGroup[];
    alert_rules: ConfigRule[];
    alert_channels: ConfigChannel[];
    alert_sender_interval_ms: number;
    alert_retry_base_ms: number;
    alert_retry_max_ms: number;
    alert_max_attempts: number;
    alert_send_timeout_ms: number;
    alert_outbox_retention_days: number;
    incident_retention_days: number;
  };

/** How often the leader deletes expired outbox rows and incidents. */
export const ALERT_RETENTION_INTERVAL_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface StartAlertsOptions {
  config: AlertsConfig;
  alerts: AlertsStore;
  monitoring: MonitoringStore;
  now: () => number;
  /** Where region run counts live (default: defaultRegionCounts(alerts): SQLite memory, PostgreSQL store). */
  regionCounts?: RegionCountsMode;
  /** Leader gate of the sender (a LeaderElector or a predicate); omitted = always send. */
  leader?: Gate;
  /** Subscribes the engine to stored results (IngestQueue.onStored). */
  onStored?: (l: (job: IngestedJob, r: ResultInput) => void) => void;
  maintenance?: MaintenanceCalendar;
  owner?: string;
  timers?: Timers;
  logger?: Logger;
  /** Replaces channel drivers (tests). */
  drivers?: Partial<Record<string, ChannelDriver>>;
  /** Start the periodic loops (default true; tests drive passes themselves). */
  loops?: boolean;
}

export interface Alerts {
  engine: AlertEngine;
  sender: NotificationSender;
  /** Retention on the leader (hourly): `alert_outbox_retention_days`, `incident_retention_days`; null when not leading. */
  retention: PeriodicTask<{ outbox: number; incidents: number }>;
  incidents: IncidentReader;
  /** Sends a test notification through a channel now (not through the outbox); resolves with the detail. */
  testChannel(idOrName: string): Promise<string>;
  stop(): Promise<void>;
}

/** Applies server.yml channels by name (settings validated; an invalid one is an error naming it). */
export async function applyConfigChannels(store: AlertsStore, channels: readonly ConfigChannel[], now: number): Promise<ChannelRecord[]> {
  const out: ChannelRecord[] = [];
  for (const [i, c] of channels.entries()) {
    const parsed = parseChannelSettings(c.type, c.settings);
    if (parsed.error) throw new Error(`alert_channels[${i}] (${c.name}).${parsed.error}`);
    const existing = await store.getChannel(c.name);
    out.push(await store.upsertChannel({ id: existing?.id ?? randomId('chn_', 12), name: c.name, type: c.type, settings: parsed.settings!, isDefault: c.default, enabled: c.enabled, source: 'config' }, now));
  }
  return out;
}

export async function startAlerts(o: StartAlertsOptions): Promise<Alerts> {
  const c = o.config;
  await applyConfigChannels(o.alerts, c.alert_channels, o.now());
  const sendCtx = { timeoutMs: c.alert_send_timeout_ms, smtp: c };
  const sender = new NotificationSender({
    store: o.alerts,
    now: o.now,
    owner: o.owner ?? randomId('srv_', 10),
    send: sendCtx,
    retryBaseMs: c.alert_retry_base_ms,
    retryMaxMs: c.alert_retry_max_ms,
    maxAttempts: c.alert_max_attempts,
    gate: o.leader,
    logger: o.logger,
    drivers: o.drivers,
  });
  let waking = false;
  const wake = (): void => {
    if (waking) return;
    waking = true;
    setImmediate(() => {
      waking = false;
      void sender.task.run().catch((err: unknown) => o.logger?.error({ err }, 'notification pass failed'));
    });
  };
  const engine = new AlertEngine({
    alerts: o.alerts,
    monitoring: o.monitoring,
    now: o.now,
    ...(o.regionCounts !== undefined ? { regionCounts: o.regionCounts } : {}),
    defaults: c,
    groups: c.alert_groups,
    configRules: c.alert_rules,
    maintenance: o.maintenance,
    logger: o.logger,
    onOutbox: o.loops === false ? undefined : wake,
  });
  await engine.start();
  o.onStored?.(engine.onStored);
  const retention = new PeriodicTask(
    async () => {
      const now = o.now();
      const out = await o.alerts.deleteExpired({
        outboxBefore: c.alert_outbox_retention_days > 0 ? now - c.alert_outbox_retention_days * DAY_MS : null,
        incidentsBefore: c.incident_retention_days > 0 ? now - c.incident_retention_days * DAY_MS : null,
      });
      if (out.outbox + out.incidents > 0) o.logger?.info(out, 'alert retention: expired notifications and incidents deleted');
      return out;
    },
    { gate: o.leader, onError: (err) => o.logger?.error({ err }, 'alert retention failed') },
  );
  const ticker = new PeriodicTask(() => engine.tickAll());
  const catalogue = new PeriodicTask(() => engine.refresh(), { onError: (err) => o.logger?.error({ err }, 'alert catalogue refresh failed') });
  if (o.loops !== false) {
    sender.task.start(c.alert_sender_interval_ms, o.timers);
    ticker.start(1000, o.timers);
    catalogue.start(30_000, o.timers);
    retention.start(ALERT_RETENTION_INTERVAL_MS, o.timers);
  }
  return {
    engine,
    sender,
    retention,
    incidents: incidentReader(o.alerts),
    async testChannel(idOrName) {
      const ch = await o.alerts.getChannel(idOrName);
      if (!ch) throw new ChannelError(`no channel named ${idOrName}`, true);
      const driver = (o.drivers?.[ch.type] ?? CHANNELS[ch.type as ChannelType]) as ChannelDriver;
      const at = o.now();
      return driver.send(driver.settings.parse(ch.settings), { event: 'test', incidentId: 'test', monitorId: 'test', monitorName: `Vantage channel ${ch.name}`, at, reason: 'This is a test notification from Vantage.', idempotencyKey: `test:${ch.id}:${at}` }, sendCtx);
    },
    async stop() {
      await retention.stop();
      await catalogue.stop();
      await ticker.stop();
      await sender.task.stop();
      await engine.flush();
    },
  };
}

export { incidentReader, NO_MAINTENANCE, type IncidentReader, type IncidentView, type MaintenanceCalendar, type MaintenanceWindowRef } from './contract.js';
export { AlertEngine } from './engine.js';
export { NotificationSender } from './sender.js';
