/** Slack-compatible incoming webhook (also Mattermost, Rocket.Chat): `{"text": …}`. The URL is the secret. */
import { z } from 'zod';
import { json, post, textOf, type ChannelDriver } from './types.js';

export const SlackSettings = z.object({ url: z.url({ error: 'expected the incoming-webhook URL' }) }).strict();

export const slack: ChannelDriver<z.output<typeof SlackSettings>> = {
  type: 'slack',
  settings: SlackSettings,
  secretKeys: ['url'],
  send: (s, n, ctx) => post(s.url, JSON.stringify({ text: textOf(n) }), json, ctx.timeoutMs),
};
