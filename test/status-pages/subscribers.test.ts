/**
 * Subscribers with double opt-in, through a real SMTP server on loopback (smtp-server) and nodemailer:
 * sign-up mails a confirm link, nothing is sent before confirmation, maintenance start/end notices go to
 * confirmed subscribers once each (also when two senders race), and the unsubscribe link works.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { createSmtpMailer } from '../../src/monitoring/status-pages/mailer.js';
import { sendMaintenanceNotices } from '../../src/monitoring/status-pages/subscribers.js';
import { waitFor } from '../monitoring/helpers.js';
import { startFixture, type Fixture } from './fixture.js';

interface Received {
  to: string[];
  raw: string;
}

let smtp: SMTPServer;
let inbox: Received[];
let f: Fixture;
let mailer: ReturnType<typeof createSmtpMailer>;
let clock = 0;

beforeEach(async () => {
  clock = Date.UTC(2026, 5, 15, 12);
  inbox = [];
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const port = (smtp.server.address() as AddressInfo).port;
  mailer = createSmtpMailer({ host: '127.0.0.1', port, secure: false, user: '', pass: '', from: 'status@acme.example' });
  f = await startFixture({ mailer, now: () => clock });
  await f.opened.statusPages.upsertPage({ slug: 'acme', title: 'Acme', description: '', showTargets: false, groups: [{ name: 'Core', monitorIds: ['m1'] }] }, clock);
});
afterEach(async () => {
  mailer.close();
  await f.close();
  await new Promise<void>((r) => smtp.close(() => r()));
});

/** The decoded text of a mail (quoted-printable soft breaks joined). */
const text = (m: Received) => m.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
const link = (m: Received, kind: string) => new RegExp(`(http://[^\\s]+/${kind}\\?token=[A-Za-z0-9_-]+)`).exec(text(m))![1]!;

const signUp = (email: string, form = false) =>
  fetch(`${f.url}/status/acme/subscribe`, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? `email=${encodeURIComponent(email)}` : JSON.stringify({ email }),
  });

describe('subscribers', () => {
  it('double opt-in: a confirm link first, notices only after confirming, then unsubscribe', async () => {
    const html = await (await fetch(`${f.url}/status/acme`)).text();
    expect(html).toContain('name="email"');
    const res = await signUp('ann@example.org', true);
    expect(res.status).toBe(202);
    await waitFor(() => inbox.length === 1, { what: 'confirmation mail' });
    expect(inbox[0]!.to).toEqual(['ann@example.org']);
    expect(text(inbox[0]!)).toContain('Subject: Confirm your subscription to Acme');
    const confirm = link(inbox[0]!, 'confirm');
    expect(confirm.startsWith(`${f.url}/status/acme/confirm?token=`)).toBe(true);

    // A window that starts now: not confirmed yet, so nobody is told.
    await f.opened.statusPages.createWindow({ title: 'Router swap', description: 'Short blip', schedule: { kind: 'once', startsAt: clock, endsAt: clock + 3_600_000 }, targets: { monitorIds: ['m1'], groups: [], statusPages: [] } }, { id: 'w1', now: clock });
    const cal = await f.calendar.reload();
    expect(await sendMaintenanceNotices({ store: f.opened.statusPages, mailer, publicUrl: f.url, calendar: cal }, clock)).toBe(0);

    const ok = await fetch(confirm);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Subscription confirmed');
    expect((await f.opened.statusPages.listSubscribers('acme', { confirmedOnly: true })).map((s) => s.email)).toEqual(['ann@example.org']);

    // The start notice was claimed (nobody confirmed then), so it is not sent late; the end notice is.
    clock += 3_600_000;
    expect(await sendMaintenanceNotices({ store: f.opened.statusPages, mailer, publicUrl: f.url, calendar: cal }, clock)).toBe(1);
    await waitFor(() => inbox.length === 2, { what: 'end notice' });
    expect(text(inbox[1]!)).toContain('Subject: [Acme] Maintenance finished: Router swap');
    const unsub = link(inbox[1]!, 'unsubscribe');
    expect((await fetch(unsub)).status).toBe(200);
    expect((await fetch(unsub)).status).toBe(404);
    expect(await f.opened.statusPages.listSubscribers('acme', { confirmedOnly: false })).toEqual([]);
  });

  it('start and end notices go out once each, even with two senders at the same moment', async () => {
    await signUp('bob@example.org');
    await waitFor(() => inbox.length === 1, { what: 'confirmation mail' });
    await fetch(link(inbox[0]!, 'confirm'));
    await f.opened.statusPages.createWindow({ title: 'Patch night', description: 'Kernel updates', schedule: { kind: 'weekly', weekdays: [1], start: '14:00', durationMs: 1_800_000, timezone: 'Europe/Amsterdam' }, targets: { monitorIds: [], groups: [], statusPages: ['acme'] } }, { id: 'w2', now: clock });
    const cal = await f.calendar.reload();
    const deps = { store: f.opened.statusPages, mailer, publicUrl: f.url, calendar: cal };
    // Monday 15 June 2026, 14:00 CEST = 12:00 UTC: the window starts at `clock`.
    const sent = await Promise.all([sendMaintenanceNotices(deps, clock + 5_000), sendMaintenanceNotices(deps, clock + 5_000)]);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await sendMaintenanceNotices(deps, clock + 60_000)).toBe(0);
    expect(await sendMaintenanceNotices(deps, clock + 1_800_000)).toBe(1);
    await waitFor(() => inbox.length === 3, { what: 'start and end notices' });
    expect(text(inbox[1]!)).toContain('Subject: [Acme] Maintenance started: Patch night');
    expect(text(inbox[1]!)).toContain('Kernel updates');
    expect(text(inbox[2]!)).toContain('Subject: [Acme] Maintenance finished: Patch night');
  });

  it('a repeated sign-up re-sends the same link; a confirmed address is told so; bad input names the field', async () => {
    await signUp('Cat@Example.org');
    await signUp('cat@example.org');
    await waitFor(() => inbox.length === 2, { what: 'two confirmation mails' });
    expect(link(inbox[0]!, 'confirm')).toBe(link(inbox[1]!, 'confirm'));
    await fetch(link(inbox[0]!, 'confirm'));
    const again = await signUp('cat@example.org');
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ status: 'this address is already subscribed' });
    for (const bad of ['', 'not-an-address', 'a@b', 'x@y.example\r\nBcc: z@evil.example']) {
      const r = await signUp(bad);
      expect(r.status, bad).toBe(400);
      expect(await r.json()).toEqual({ error: 'email: expected an email address such as you@example.com' });
    }
    const broken = await fetch(`${f.url}/status/acme/subscribe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(await broken.json()).toEqual({ error: 'body: expected JSON {"email": "…"}' });
    const big = await fetch(`${f.url}/status/acme/subscribe`, { method: 'POST', body: 'email=' + 'a'.repeat(5000) });
    expect(big.status).toBe(413);
    expect((await fetch(`${f.url}/status/acme/confirm?token=wrong`)).status).toBe(404);
    expect(inbox).toHaveLength(2);
  });

  it('answers 502 when the mail server is unreachable, and no mail means no confirmation', async () => {
    await new Promise<void>((r) => smtp.close(() => r()));
    const r = await signUp('dan@example.org');
    expect(r.status).toBe(502);
    expect(await f.opened.statusPages.listSubscribers('acme', { confirmedOnly: true })).toEqual([]);
    smtp = new SMTPServer({ disabledCommands: ['STARTTLS'], authOptional: true });
    await new Promise<void>((res) => smtp.listen(0, '127.0.0.1', () => res()));
  });
});
