/**
 * Generic webhook: the notification as JSON, signed when a secret is set. Headers: X-Vantage-Event,
 * X-Vantage-Idempotency-Key (receivers deduplicate on it), X-Vantage-Timestamp (ms) and
 * X-Vantage-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { json, post, type ChannelDriver } from './types.js';

export const WebhookSettings = z
  .object({
    url: z.url({ error: 'expected an http(s) URL' }),
    secret: z.string().default(''),
    headers: z.record(z.string(), z.string(), { error: 'expected a map of header names to values' }).default({}),
  })
  .strict();

export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export const webhook: ChannelDriver<z.output<typeof WebhookSettings>> = {
  type: 'webhook',
  settings: WebhookSettings,
  secretKeys: ['secret', 'headers'],
  send(s, n, ctx) {
    const body = JSON.stringify(n);
    const ts = String(Date.now());
    const headers: Record<string, string> = { ...s.headers, ...json, 'x-vantage-event': n.event, 'x-vantage-idempotency-key': n.idempotencyKey, 'x-vantage-timestamp': ts };
    if (s.secret !== '') headers['x-vantage-signature'] = signature(s.secret, ts, body);
    return post(s.url, body, headers, ctx.timeoutMs);
  },
};
