/**
 * The alert-channel form's model: the settings fields of every channel type (docs/alerts.md "Channels"), the
 * form values of a stored channel, and the settings sent back by PutChannel. Secrets are write-only: the API
 * returns them as "********" and keeps the stored value when "********" comes back unchanged, so a secret left
 * blank is sent as the mask (kept), a typed one replaces it, and "remove" clears an optional one. Pure.
 */

export const SECRET_MASK = '********';
export const CHANNEL_TYPES = ['webhook', 'slack', 'discord', 'email', 'pagerduty', 'ntfy', 'telegram'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export interface SettingField {
  key: string;
  label: string;
  /** text: one value; list: comma-separated values; headers: "Name: value" lines (a map); select: one of options. */
  kind: 'text' | 'list' | 'headers' | 'select';
  secret?: boolean;
  /** Left out of the settings when blank (the server's default applies). */
  optional?: boolean;
  options?: readonly string[];
  placeholder?: string;
}

export const CHANNEL_FIELDS: Record<ChannelType, readonly SettingField[]> = {
  webhook: [
    { key: 'url', label: 'URL', kind: 'text', placeholder: 'https://hooks.example.com/vantage' },
    { key: 'secret', label: 'Signing secret', kind: 'text', secret: true, optional: true },
    { key: 'headers', label: 'Extra headers (one "Name: value" a line)', kind: 'headers', secret: true, optional: true },
  ],
  slack: [{ key: 'url', label: 'Incoming-webhook URL', kind: 'text', secret: true, placeholder: 'https://hooks.slack.com/services/…' }],
  discord: [{ key: 'url', label: 'Webhook URL', kind: 'text', secret: true, placeholder: 'https://discord.com/api/webhooks/…' }],
  email: [{ key: 'to', label: 'To (comma-separated addresses)', kind: 'list', placeholder: 'ops@example.com' }],
  pagerduty: [
    { key: 'routing_key', label: 'Routing (integration) key', kind: 'text', secret: true },
    { key: 'severity', label: 'Severity', kind: 'select', options: ['critical', 'error', 'warning', 'info'] },
    { key: 'base_url', label: 'Base URL', kind: 'text', optional: true, placeholder: 'https://events.pagerduty.com' },
  ],
  ntfy: [
    { key: 'topic', label: 'Topic', kind: 'text' },
    { key: 'base_url', label: 'Base URL', kind: 'text', optional: true, placeholder: 'https://ntfy.sh' },
    { key: 'token', label: 'Access token', kind: 'text', secret: true, optional: true },
  ],
  telegram: [
    { key: 'bot_token', label: 'Bot token', kind: 'text', secret: true, placeholder: '123456:ABC-…' },
    { key: 'chat_id', label: 'Chat id', kind: 'text' },
    { key: 'base_url', label: 'Base URL', kind: 'text', optional: true, placeholder: 'https://api.telegram.org' },
  ],
};

export const isChannelType = (t: string): t is ChannelType => (CHANNEL_TYPES as readonly string[]).includes(t);

/** Parses the settings JSON of a listed channel (masked); {} when it is not an object. */
export function parseSettings(json: string | undefined): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(json || '{}');
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Whether a stored secret exists for `key` (the API sends it masked). */
export const hasStoredSecret = (stored: Record<string, unknown>, key: string): boolean => stored[key] === SECRET_MASK;

/** The form's initial values: stored plain settings as text; secrets always blank. */
export function initialValues(type: ChannelType, stored: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of CHANNEL_FIELDS[type]) {
    const v = stored[f.key];
    if (f.secret || v === undefined || v === null) out[f.key] = f.kind === 'select' ? (f.options?.[0] ?? '') : '';
    else if (Array.isArray(v)) out[f.key] = v.map(String).join(', ');
    else out[f.key] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** A bad form value, named as the server would name it ("settings.headers: …"). */
export class SettingsError extends Error {}

/** "Name: value" lines as a header map. */
export function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const c = line.indexOf(':');
    if (c <= 0) throw new SettingsError(`settings.headers: line ${i + 1}: expected "Name: value"`);
    out[line.slice(0, c).trim()] = line.slice(c + 1).trim();
  }
  return out;
}

export interface BuildOptions {
  /** The stored (masked) settings of the channel being edited, {} for a new one. */
  stored: Record<string, unknown>;
  /** Whether the type is the stored one (only then does a mask keep a stored secret). */
  sameType: boolean;
  /** Optional secrets to remove. */
  clear: ReadonlySet<string>;
}

/** The settings object sent in PutChannel. Throws SettingsError for a value the form cannot read. */
export function buildSettings(type: ChannelType, values: Record<string, string>, o: BuildOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of CHANNEL_FIELDS[type]) {
    const raw = values[f.key] ?? '';
    const blank = raw.trim() === '';
    if (f.secret) {
      if (o.clear.has(f.key) && f.optional) {
        out[f.key] = f.kind === 'headers' ? {} : '';
        continue;
      }
      if (blank) {
        if (o.sameType && hasStoredSecret(o.stored, f.key)) out[f.key] = SECRET_MASK;
        continue;
      }
    } else if (blank && (f.optional || f.kind === 'text')) {
      if (!f.optional) out[f.key] = '';
      continue;
    }
    if (f.kind === 'headers') out[f.key] = parseHeaders(raw);
    else if (f.kind === 'list') out[f.key] = raw.split(/[,\s]+/).filter(Boolean);
    else out[f.key] = f.secret ? raw : raw.trim();
  }
  return out;
}
