/**
 * The leader loop of src/app/status-pages.ts that mails maintenance start/end notices, driven by fake timers and
 * an injected clock, with a real SMTP server (smtp-server) on loopback and a real SQLite file: each notice goes
 * to confirmed subscribers once, on the leader only, and a restarted plane does not send it again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStatusPages, type StatusPagesPlane } from '../../src/app/status-pages.js';
import { loadServerConfig } from '../../src/config/load.js';
import type { ServerConfig } from '../../src/config/server.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { SmtpReceiver } from '../alerts/harness.js';
import { waitFor } from '../monitoring/helpers.js';
import { FakeTimers } from '../support/fake-timers.js';

const T0 = Date.UTC(2026, 5, 15, 12, 0);
const MIN = 60_000;
let dir: string;
let opened: OpenedStore;
let smtp: SmtpReceiver;
let planes: StatusPagesPlane[];
let clock: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-notices-'));
  opened = openSqliteStore(join(dir, 'vantage.db'));
  smtp = await new SmtpReceiver().start();
  planes = [];
  clock = T0;
});
afterEach(async () => {
  for (const p of planes) await p.close();
  await smtp.stop();
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(): ServerConfig {
  const file = join(dir, 'server.yml');
  writeFileSync(file, `smtp_host: 127.0.0.1\nsmtp_port: ${smtp.port}\nsmtp_from: status@example.test\n`);
  return loadServerConfig({ file }).config;
}

async function plane(timers: FakeTimers, leader: () => boolean = () => true): Promise<StatusPagesPlane> {
  const p = await startStatusPages({ config: config(), store: opened, logger: pino({ level: 'silent' }), now: () => clock, timers, leader });
  p.setPublicUrl('https://status.example.test/');
  planes.push(p);
  return p;
}

/** Moves the clock to `at` and runs one loop pass (10 s on the fake timers), resolving when it has finished. */
async function passAt(timers: FakeTimers, at: number): Promise<void> {
  clock = at;
  // Two loops wait: the 10 s calendar/notice pass and the hourly retention.
  expect(timers.size).toBe(2);
  timers.advance(10_000);
  // The pass schedules the next one when it is done.
  await waitFor(() => timers.size === 2, { what: 'the loop pass to finish' });
}

async function seed(): Promise<void> {
  await opened.statusPages.upsertPage({ slug: 'acme', title: 'Acme status', description: '', showTargets: false, groups: [{ name: 'API', monitorIds: ['m1'] }] }, T0);
  const a = await opened.statusPages.addSubscriber({ id: 's1', slug: 'acme', email: 'ann@example.test', token: 'tok-ann' }, T0);
  await opened.statusPages.confirmSubscriber(a!.token, T0);
  await opened.statusPages.addSubscriber({ id: 's2', slug: 'acme', email: 'pending@example.test', token: 'tok-pending' }, T0); // never confirmed
  await opened.statusPages.createWindow(
    { title: 'DB upgrade', description: 'Writes pause for a minute.', schedule: { kind: 'once', startsAt: T0 + 5 * MIN, endsAt: T0 + 65 * MIN }, targets: { monitorIds: [], groups: [], statusPages: ['acme'] } },
    { id: 'mw_db', now: T0 },
  );
}

const subjects = () => smtp.mails.map((m) => /^Subject: (.*)$/m.exec(m.raw)?.[1]);

describe('maintenance notice loop (leader, fake timers, real SMTP)', () => {
  it('mails start and end once each to confirmed subscribers; a restarted plane sends nothing again', async () => {
    await seed();
    const timers = new FakeTimers();
    await plane(timers);
    await passAt(timers, T0 + MIN); // before the window: nothing
    expect(smtp.mails).toHaveLength(0);

    await passAt(timers, T0 + 5 * MIN + 10_000);
    await waitFor(() => smtp.mails.length === 1, { what: 'the start notice' });
    expect(smtp.mails[0]!.to).toEqual(['ann@example.test']);
    expect(subjects()).toEqual(['[Acme status] Maintenance started: DB upgrade']);
    const body = smtp.mails[0]!.raw.replace(/=\r\n/g, '').replace(/=3D/g, '='); // quoted-printable
    expect(body).toContain('https://status.example.test/status/acme/unsubscribe?token=tok-ann');

    await passAt(timers, T0 + 5 * MIN + 20_000); // the next pass: already claimed
    await passAt(timers, T0 + 30 * MIN);
    expect(smtp.mails).toHaveLength(1);

    // A restart (a new plane on the same store) inside the lookback window sends nothing again.
    await planes.shift()!.close();
    const again = new FakeTimers();
    await plane(again);
    await passAt(again, T0 + 6 * MIN);
    expect(smtp.mails).toHaveLength(1);

    await passAt(again, T0 + 65 * MIN + 5_000);
    await waitFor(() => smtp.mails.length === 2, { what: 'the end notice' });
    expect(subjects()).toEqual(['[Acme status] Maintenance started: DB upgrade', '[Acme status] Maintenance finished: DB upgrade']);
    await passAt(again, T0 + 66 * MIN);
    expect(smtp.mails).toHaveLength(2);
    expect(smtp.mails.every((m) => m.to.length === 1 && m.to[0] === 'ann@example.test')).toBe(true);
  });

  it('a replica that is not the leader mails nothing (its calendar still reloads); the leader does', async () => {
    await seed();
    const follower = new FakeTimers();
    const p = await plane(follower, () => false);
    await opened.statusPages.createWindow(
      { title: 'Later', description: '', schedule: { kind: 'once', startsAt: T0 + 90 * MIN, endsAt: T0 + 95 * MIN }, targets: { monitorIds: ['m1'], groups: [], statusPages: [] } },
      { id: 'mw_later', now: T0 },
    );
    await passAt(follower, T0 + 5 * MIN + 10_000);
    expect(p.calendar.activeFor('m1', T0 + 91 * MIN)?.id).toBe('mw_later'); // reloaded by the pass
    expect(smtp.mails).toHaveLength(0);
    const leader = new FakeTimers();
    await plane(leader);
    await passAt(leader, T0 + 5 * MIN + 20_000);
    await waitFor(() => smtp.mails.length === 1, { what: 'the leader to mail the start notice' });
    await passAt(follower, T0 + 5 * MIN + 30_000);
    expect(smtp.mails).toHaveLength(1);
  });

  it('retention on the hourly tick: one-off windows ended maintenance_retention_days ago and old notice claims go, recurring windows stay', async () => {
    await seed();
    await opened.statusPages.createWindow(
      { title: 'Weekly', description: '', schedule: { kind: 'weekly', weekdays: [0], start: '02:00', durationMs: 3_600_000, timezone: 'UTC' }, targets: { monitorIds: ['m1'], groups: [], statusPages: [] } },
      { id: 'mw_weekly', now: T0 },
    );
    const timers = new FakeTimers();
    const p = await plane(timers);
    await passAt(timers, T0 + 5 * MIN + 10_000);
    await waitFor(() => smtp.mails.length === 1, { what: 'the start notice' });
    // 91 days later (default 90): the ended one-off window and its notice claim are deleted on the hour.
    clock = T0 + 91 * 86_400_000;
    expect(timers.size).toBe(2); // the 10 s loop and the hourly retention
    timers.advance(3_600_000);
    await waitFor(() => timers.size === 2, { what: 'the passes to finish' });
    expect((await opened.statusPages.listWindows()).map((w) => w.id)).toEqual(['mw_weekly']);
    expect(p.calendar.calendar.windows.map((w) => w.id)).toEqual(['mw_weekly']);
    expect(await opened.statusPages.claimNotice('mw_db@acme', T0 + 5 * MIN, 'start', clock)).toBe(true); // its claim was gone
    // A follower does nothing.
    const follower = new FakeTimers();
    const f = await plane(follower, () => false);
    expect(await f.retention.run()).toBeNull();
  });
});
