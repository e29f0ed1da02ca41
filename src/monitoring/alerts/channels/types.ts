/** What every channel implements, and the helpers they share (message text, HTTP POST with a timeout). */
import type { z } from 'zod';

/** The notification a channel delivers: the outbox row's payload (event, incident, monitor, reason, key). */
export interface Notification {
  event: 'down' | 'resolved' | 'degraded' | 'recovered' | 'reminder' | 'test';
  incidentId: string;
  monitorId: string;
  monitorName: string;
  at: number;
  reason: string;
  idempotencyKey: string;
  reminder?: number;
  [k: string]: unknown;
}

export interface SmtpSettings {
  smtp_host: string;
  smtp_port: number;
  smtp_user: string;
  smtp_pass: string;
  smtp_from: string;
  smtp_secure: boolean;
}

export interface SendContext {
  timeoutMs: number;
  smtp: SmtpSettings;
}

/** A failed delivery; `permanent` failures (a 4xx other than 408/429, bad settings) are not retried. */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
  }
}

export interface ChannelDriver<S = Record<string, unknown>> {
  type: string;
  settings: z.ZodType<S>;
  /** Settings keys that are secrets: never returned by the API. */
  secretKeys: readonly string[];
  /** Delivers; resolves with a short detail for the timeline (e.g. "HTTP 200"), throws ChannelError. */
  send(settings: S, n: Notification, ctx: SendContext): Promise<string>;
}

const EMOJI: Record<Notification['event'], string> = { down: '🔴', resolved: '🟢', degraded: '🟠', recovered: '🟢', reminder: '🔁', test: '🧪' };
const VERB: Record<Notification['event'], string> = {
  down: 'is DOWN',
  resolved: 'is back UP',
  degraded: 'is DEGRADED',
  recovered: 'is no longer degraded',
  reminder: 'is still DOWN',
  test: 'test notification',
};

export function subjectOf(n: Notification): string {
  return `${EMOJI[n.event]} ${n.monitorName} ${VERB[n.event]}`;
}

export function textOf(n: Notification): string {
  return `${subjectOf(n)}\n${n.reason}\nIncident ${n.incidentId} at ${new Date(n.at).toISOString()}`;
}

/** POSTs `body`; a non-2xx answer is a ChannelError (permanent for 4xx other than 408 and 429). */
export async function post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new ChannelError(`POST ${new URL(url).origin}: ${cause ?? (err as Error).message}`);
  }
  const text = await res.text().catch(() => '');
  if (res.status >= 200 && res.status < 300) return `HTTP ${res.status}`;
  const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
  throw new ChannelError(`HTTP ${res.status} ${text.slice(0, 200)}`.trim(), permanent);
}

export const json = { 'content-type': 'application/json' };
