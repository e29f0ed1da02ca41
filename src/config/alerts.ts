import { z } from 'zod';
import { AlertGroupSchema, RuleOverrideSchema } from '../monitoring/alerts/rules.js';
import { CHANNEL_TYPES } from '../store/alerts.js';
import { bool, int, json, str, type FieldTable } from './fields.js';

/** A channel declared in server.yml (`alert_channels`); settings are checked by the channel's own schema at start. */
export const ConfigChannelSchema = z
  .object({
    name: z.string({ error: 'expected a channel name' }).min(1, { error: 'expected a channel name' }),
    type: z.enum(CHANNEL_TYPES, { error: `expected one of ${CHANNEL_TYPES.join(', ')}` }),
    default: z.boolean({ error: 'expected true or false' }).default(false),
    enabled: z.boolean({ error: 'expected true or false' }).default(true),
    settings: z.record(z.string(), z.unknown(), { error: 'expected a map of settings' }).default({}),
  })
  .strict();
export type ConfigChannel = z.output<typeof ConfigChannelSchema>;

/** A monitor's rule declared in server.yml (`alert_rules`): the monitor by name or id, then the override. */
export const ConfigRuleSchema = RuleOverrideSchema.extend({ monitor: z.string({ error: 'expected a monitor name or id' }).min(1, { error: 'expected a monitor name or id' }) }).strict();
export type ConfigRule = z.output<typeof ConfigRuleSchema>;

/**
 * The server.yml keys of alerting (spread into SERVER_FIELDS): the global rule defaults, groups of defaults,
 * channels as code, the outbox sender's pacing, and the SMTP settings shared with status-page mail.
 */
export const ALERT_FIELDS = {
  alert_failure_threshold: int(3, 'Vantage: a region is failing after this many consecutive failed runs.', { min: 1 }),
  alert_success_threshold: int(2, 'Vantage: a failing region passes again after this many consecutive passing runs.', { min: 1 }),
  alert_region_quorum: int(0, 'Vantage: failing regions needed for a monitor to be down (0 = a majority of its regions).', { min: 0 }),
  alert_reminder_interval_ms: int(0, 'Vantage: while down, a reminder every this many ms (0 = no reminders).', { min: 0 }),
  alert_max_reminders: int(3, 'Vantage: at most this many reminders per incident.', { min: 0 }),
  alert_degraded_latency_ms: int(0, 'Vantage: degraded when the p95 of passing runs over the window exceeds this (0 = off).', { min: 0 }),
  alert_degraded_window_ms: int(300_000, 'Vantage: the window of the degraded p95.', { min: 1000 }),
  alert_groups: json(
    z.array(AlertGroupSchema, { error: 'expected a list of groups' }).default([]),
    [],
    'Vantage: named rule defaults a monitor picks with options.alerts.group (see docs/alerts.md).',
  ),
  alert_rules: json(
    z.array(ConfigRuleSchema, { error: 'expected a list of rules' }).default([]),
    [],
    'Vantage: per-monitor alert rules as code ({monitor, failure_threshold, …}; see docs/alerts.md).',
  ),
  alert_channels: json(
    z.array(ConfigChannelSchema, { error: 'expected a list of channels' }).default([]),
    [],
    'Vantage: notification channels as code, applied at start by name (see docs/alerts.md).',
  ),
  alert_sender_interval_ms: int(500, 'Vantage: how often the leader sends due notifications from the outbox.', { min: 10 }),
  alert_retry_base_ms: int(1000, 'Vantage: first retry delay of a failed notification (doubles each attempt).', { min: 1 }),
  alert_retry_max_ms: int(300_000, 'Vantage: longest retry delay of a failed notification.', { min: 1 }),
  alert_max_attempts: int(50, 'Vantage: a notification is given up after this many failed attempts.', { min: 1 }),
  alert_send_timeout_ms: int(10_000, 'Vantage: timeout of one notification attempt.', { min: 100 }),
  alert_outbox_retention_days: int(30, 'Vantage: delivered and given-up notifications are deleted this many days after they finished (0 = kept forever); the leader checks hourly.', { min: 0 }),
  incident_retention_days: int(365, 'Vantage: resolved incidents (with their timeline) are deleted this many days after they resolved (0 = kept forever); below 90 the status pages show fewer past incidents.', { min: 0 }),
  smtp_host: str('', 'Vantage: SMTP server of email notifications (empty = no email).'),
  smtp_port: int(587, 'Vantage: SMTP port.', { min: 1, max: 65535 }),
  smtp_user: str('', 'Vantage: SMTP user (empty = no authentication).'),
  smtp_pass: str('', 'Vantage: SMTP password.'),
  smtp_from: str('vantage@localhost', 'Vantage: sender address of email notifications.'),
  smtp_secure: bool(false, 'Vantage: connect with TLS from the start (port 465); otherwise STARTTLS when offered.'),
} satisfies FieldTable;

export const ALERT_CONFIG_KEYS = Object.keys(ALERT_FIELDS) as (keyof typeof ALERT_FIELDS)[];
