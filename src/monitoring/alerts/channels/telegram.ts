/** Telegram Bot API: `POST <base_url>/bot<token>/sendMessage {chat_id, text}`. */
import { z } from 'zod';
import { json, post, textOf, type ChannelDriver } from './types.js';

export const TelegramSettings = z
  .object({
    bot_token: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, { error: 'expected a bot token like 123456:ABC-…' }),
    chat_id: z.union([z.string().min(1), z.number().int()], { error: 'expected a chat id' }),
    base_url: z.url({ error: 'expected an http(s) URL' }).default('https://api.telegram.org'),
  })
  .strict();

export const telegram: ChannelDriver<z.output<typeof TelegramSettings>> = {
  type: 'telegram',
  settings: TelegramSettings,
  secretKeys: ['bot_token'],
  send: (s, n, ctx) =>
    post(`${s.base_url.replace(/\/+$/, '')}/bot${s.bot_token}/sendMessage`, JSON.stringify({ chat_id: s.chat_id, text: textOf(n), disable_web_page_preview: true }), json, ctx.timeoutMs).catch((err: Error) => {
      // The token is part of the URL: keep it out of error messages.
      throw Object.assign(err, { message: err.message.split(s.bot_token).join('…') });
    }),
};
