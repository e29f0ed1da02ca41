/** Each channel against a real HTTP receiver on loopback (its base URL pointed there): request shape, failures, secrets. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANNELS, maskSettings, parseChannelSettings, SECRET_MASK, unmaskSettings, ChannelError, type Notification } from '../../src/monitoring/alerts/channels/index.js';
import { backoffMs } from '../../src/monitoring/alerts/sender.js';
import { alertsConfig, Receiver } from './harness.js';

let rx: Receiver;
beforeEach(async () => {
  rx = await new Receiver().start();
});
afterEach(async () => {
  await rx.stop();
});

const ctx = { timeoutMs: 2000, smtp: alertsConfig() };
const n = (event: Notification['event'] = 'down'): Notification => ({ event, incidentId: 'inc_1', monitorId: 'mon_1', monitorName: 'api', at: 1_800_000_000_000, reason: '1 of 1 region(s) failing', idempotencyKey: `inc_1:${event}:chn_1` });
async function send(type: keyof typeof CHANNELS, settings: Record<string, unknown>, e: Notification['event'] = 'down'): Promise<string> {
  const d = CHANNELS[type] as unknown as { settings: { parse(v: unknown): unknown }; send(s: unknown, n: Notification, c: typeof ctx): Promise<string> };
  return d.send(d.settings.parse(settings), n(e), ctx);
}

describe('channels', () => {
  it('slack: {"text"} to the incoming-webhook URL', async () => {
    expect(await send('slack', { url: rx.url('/services/T/B/X') })).toBe('HTTP 200');
    expect(rx.got[0]!.path).toBe('/services/T/B/X');
    expect(rx.json(0)['text']).toMatch(/api is DOWN/);
  });
  it('discord: {"content"} with wait=true', async () => {
    await send('discord', { url: rx.url('/api/webhooks/1/abc') });
    expect(rx.got[0]!.path).toBe('/api/webhooks/1/abc?wait=true');
    expect(rx.json(0)['content']).toMatch(/api is DOWN/);
  });
  it('pagerduty: trigger then resolve with the incident as dedup key', async () => {
    await send('pagerduty', { routing_key: 'R0UT1NG', base_url: rx.url('') });
    await send('pagerduty', { routing_key: 'R0UT1NG', base_url: rx.url('') }, 'resolved');
    expect(rx.got.map((g) => g.path)).toEqual(['/v2/enqueue', '/v2/enqueue']);
    expect(rx.json(0)).toMatchObject({ routing_key: 'R0UT1NG', event_action: 'trigger', dedup_key: 'inc_1', payload: { source: 'api', severity: 'critical' } });
    expect(rx.json(1)).toMatchObject({ event_action: 'resolve', dedup_key: 'inc_1' });
    expect(rx.json(1)['payload']).toBeUndefined();
  });
  it('ntfy: plain text to base/topic with title, priority and token', async () => {
    await send('ntfy', { base_url: rx.url(''), topic: 'ops-alerts', token: 'tk_1' });
    const g = rx.got[0]!;
    expect(g.path).toBe('/ops-alerts');
    expect(g.headers['authorization']).toBe('Bearer tk_1');
    expect(g.headers['priority']).toBe('high');
    expect(decodeURIComponent(String(g.headers['title']))).toMatch(/api is DOWN/);
    expect(g.body).toMatch(/1 of 1 region/);
  });
  it('telegram: sendMessage under bot<token>; the token never appears in an error', async () => {
    await send('telegram', { bot_token: '123:ABC_def', chat_id: -100, base_url: rx.url('') });
    expect(rx.got[0]!.path).toBe('/bot123:ABC_def/sendMessage');
    expect(rx.json(0)).toMatchObject({ chat_id: -100 });
    rx.status = 500;
    const err = await send('telegram', { bot_token: '123:ABC_def', chat_id: 1, base_url: rx.url('') }).catch((e: Error) => e);
    expect(String(err)).not.toContain('ABC_def');
  });
  it('a 4xx answer is permanent, a 5xx or a refused connection is retried', async () => {
    rx.status = 404;
    const e404 = (await send('webhook', { url: rx.url() }).catch((e: unknown) => e)) as ChannelError;
    expect(e404).toBeInstanceOf(ChannelError);
    expect(e404.permanent).toBe(true);
    rx.status = 429;
    expect(((await send('webhook', { url: rx.url() }).catch((e: unknown) => e)) as ChannelError).permanent).toBe(false);
    rx.status = 503;
    expect(((await send('webhook', { url: rx.url() }).catch((e: unknown) => e)) as ChannelError).permanent).toBe(false);
    await rx.stop();
    const refused = (await send('webhook', { url: rx.url() }).catch((e: unknown) => e)) as ChannelError;
    expect(refused.message).toMatch(/ECONNREFUSED|UND_ERR_SOCKET|ECONNRESET/);
    expect(refused.permanent).toBe(false);
  });
  it('email without smtp_host is a permanent error naming the key', async () => {
    await expect(send('email', { to: ['a@example.test'] })).rejects.toThrow('smtp_host is not set');
  });
  it('bad settings name the field', () => {
    expect(parseChannelSettings('webhook', {}).error).toBe('settings.url: expected an http(s) URL');
    expect(parseChannelSettings('ntfy', { topic: 'a b' }).error).toMatch(/^settings\.topic: expected a topic name/);
    expect(parseChannelSettings('email', { to: ['nope'] }).error).toBe('settings.to.0: expected an email address');
    expect(parseChannelSettings('telegram', { bot_token: 'x', chat_id: 1 }).error).toMatch(/^settings\.bot_token/);
    expect(parseChannelSettings('slack', { url: 'https://hooks.example/x', extra: 1 }).error).toMatch(/^settings/);
  });
  it('secrets are masked, and a masked value sent back keeps the stored secret', () => {
    const stored = { url: 'https://x.example/h', secret: 'hunter2', headers: { authorization: 'Bearer z' } };
    const masked = maskSettings('webhook', stored);
    expect(JSON.stringify(masked)).not.toContain('hunter2');
    expect(JSON.stringify(masked)).not.toContain('Bearer z');
    expect(masked['url']).toBe('https://x.example/h');
    expect(maskSettings('telegram', { bot_token: '1:A', chat_id: 5 })).toEqual({ bot_token: SECRET_MASK, chat_id: 5 });
    expect(unmaskSettings('webhook', { ...masked, url: 'https://y.example/h' }, stored)).toEqual({ ...stored, url: 'https://y.example/h' });
  });
  it('backoff doubles from the base up to the cap', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffMs(a, 1000, 8000))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });
});
