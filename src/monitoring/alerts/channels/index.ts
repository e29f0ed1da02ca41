/** The channel registry: one entry per type; settings validation and secret masking go through it. */
import type { ChannelType } from '../../../store/alerts.js';
import { discord } from './discord.js';
import { email } from './email.js';
import { ntfy } from './ntfy.js';
import { pagerduty } from './pagerduty.js';
import { slack } from './slack.js';
import { telegram } from './telegram.js';
import type { ChannelDriver } from './types.js';
import { webhook } from './webhook.js';

export const CHANNELS: Record<ChannelType, ChannelDriver<never>> = { webhook, slack, discord, email, pagerduty, ntfy, telegram } as unknown as Record<ChannelType, ChannelDriver<never>>;

export const SECRET_MASK = '********';

/** Validates settings for `type`; returns the parsed settings or an error naming the field. */
export function parseChannelSettings(type: ChannelType, raw: unknown): { settings?: Record<string, unknown>; error?: string } {
  const driver = CHANNELS[type] as unknown as ChannelDriver;
  const r = driver.settings.safeParse(raw);
  if (r.success) return { settings: r.data };
  const issue = r.error.issues[0]!;
  return { error: `settings.${issue.path.join('.') || '(root)'}: ${issue.message}` };
}

/** The settings with every secret replaced by SECRET_MASK (what the API returns). */
export function maskSettings(type: ChannelType, settings: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...settings };
  for (const k of (CHANNELS[type] as unknown as ChannelDriver).secretKeys) {
    const v = out[k];
    if (v === undefined || v === '' || (typeof v === 'object' && v !== null && Object.keys(v).length === 0)) continue;
    out[k] = SECRET_MASK;
  }
  return out;
}

/**
 * Settings sent back by a client after an edit: masked values keep what is stored (the client never saw it).
 */
export function unmaskSettings(type: ChannelType, incoming: Record<string, unknown>, stored: Record<string, unknown>): Record<string, unknown> {
  const out = { ...incoming };
  for (const k of (CHANNELS[type] as unknown as ChannelDriver).secretKeys) if (out[k] === SECRET_MASK) out[k] = stored[k];
  return out;
}

export type { ChannelDriver, Notification, SendContext, SmtpSettings } from './types.js';
export { ChannelError } from './types.js';
