/** ntfy: a plain-text POST to `<base_url>/<topic>` with Title, Priority and Tags headers; optional bearer token. */
import { z } from 'zod';
import { post, subjectOf, textOf, type ChannelDriver } from './types.js';

export const NtfySettings = z
  .object({
    base_url: z.url({ error: 'expected an http(s) URL' }).default('https://ntfy.sh'),
    topic: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected a topic name (letters, digits, _ and -)' }),
    token: z.string().default(''),
  })
  .strict();

export const ntfy: ChannelDriver<z.output<typeof NtfySettings>> = {
  type: 'ntfy',
  settings: NtfySettings,
  secretKeys: ['token'],
  send(s, n, ctx) {
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=utf-8',
      title: encodeURIComponent(subjectOf(n)),
      priority: n.event === 'down' || n.event === 'reminder' ? 'high' : 'default',
      tags: n.event,
      'x-vantage-idempotency-key': n.idempotencyKey,
    };
    if (s.token !== '') headers['authorization'] = `Bearer ${s.token}`;
    return post(`${s.base_url.replace(/\/+$/, '')}/${s.topic}`, textOf(n), headers, ctx.timeoutMs);
  },
};
