/** Discord webhook: `{"content": …}` (`?wait=true` so a failure is reported). The URL is the secret. */
import { z } from 'zod';
import { json, post, textOf, type ChannelDriver } from './types.js';

export const DiscordSettings = z.object({ url: z.url({ error: 'expected the Discord webhook URL' }) }).strict();

export const discord: ChannelDriver<z.output<typeof DiscordSettings>> = {
  type: 'discord',
  settings: DiscordSettings,
  secretKeys: ['url'],
  send(s, n, ctx) {
    const u = new URL(s.url);
    u.searchParams.set('wait', 'true');
    return post(u.toString(), JSON.stringify({ content: textOf(n).slice(0, 2000), allowed_mentions: { parse: [] } }), json, ctx.timeoutMs);
  },
};
