/**
 * StatusPagesService and MaintenanceService over real HTTP (createWebHandler on a loopback server, API-key auth,
 * a real SQLite file) and the `vantage status-page` / `vantage maintenance` commands run in-process against it:
 * create, list, bad input naming the field, delete, the maintenance calendar reloading after each change, and
 * concurrent writes.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { Code, ConnectError } from '@connectrpc/connect';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWebHandler } from '../../src/api/web/handler.js';
import { maintenanceClient, registerStatusPageCommands, statusPagesClient } from '../../src/cli/status-page-command.js';
import { MaintenanceCalendarCache } from '../../src/monitoring/maintenance/calendar.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { call, startWebServer } from '../web/auth-helpers.js';

let dir: string;
let opened: OpenedStore;
let server: http.Server;
let base: string;
let calendar: MaintenanceCalendarCache;
let reloads: Promise<unknown>[];
const KEY = 'key-1';

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-sp-api-'));
  opened = openSqliteStore(join(dir, 'vantage.db'));
  calendar = new MaintenanceCalendarCache(opened.statusPages);
  reloads = [];
  const handler = createWebHandler({
    store: opened.monitoring,
    now: () => Date.now(),
    auth: { server_key: KEY, api_keys: [] },
    statusPages: opened.statusPages,
    onMaintenanceChanged: () => void reloads.push(calendar.reload()),
  });
  server = http.createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await Promise.all(reloads);
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
});

const pages = () => statusPagesClient({ server: base, apiKey: KEY });
const windows = () => maintenanceClient({ server: base, apiKey: KEY });
const reloaded = async (): Promise<void> => {
  await Promise.all(reloads);
};
async function rejection(p: Promise<unknown>): Promise<ConnectError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConnectError);
  return e as ConnectError;
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command().exitOverride();
  registerStatusPageCommands(program, { out: (t) => out.push(t), err: (t) => err.push(t) });
  process.exitCode = 0;
  await program.parseAsync(['node', 'vantage', ...args, '--server', base, '--api-key', KEY]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const page = (slug: string, over: Record<string, unknown> = {}) => ({
  slug,
  title: `Page ${slug}`,
  description: '',
  groups: [{ name: 'API', monitorIds: ['mon_a', 'mon_b'] }],
  showTargets: false,
  ...over,
});

describe('StatusPagesService', () => {
  it('creates, gets, lists, replaces and deletes a page', async () => {
    const { page: saved } = await pages().putPage({ page: page('acme') });
    expect(saved).toMatchObject({ slug: 'acme', title: 'Page acme', groups: [{ name: 'API', monitorIds: ['mon_a', 'mon_b'] }] });
    expect(saved!.createdAtMs).toBeGreaterThan(0n);
    expect((await opened.statusPages.getPage('acme'))!.title).toBe('Page acme');
    await pages().putPage({ page: page('acme', { title: 'Acme status', showTargets: true }) });
    expect((await pages().getPage({ slug: 'acme' })).page).toMatchObject({ title: 'Acme status', showTargets: true, createdAtMs: saved!.createdAtMs });
    expect((await pages().listPages({})).pages.map((p) => p.slug)).toEqual(['acme']);
    await pages().deletePage({ slug: 'acme' });
    expect((await pages().listPages({})).pages).toEqual([]);
    expect((await rejection(pages().deletePage({ slug: 'acme' }))).code).toBe(Code.NotFound);
    expect((await rejection(pages().getPage({ slug: 'acme' }))).rawMessage).toBe('status page acme not found');
  });

  it('bad input names the field', async () => {
    const slug = await rejection(pages().putPage({ page: page('Not A Slug') }));
    expect(slug.code).toBe(Code.InvalidArgument);
    expect(slug.rawMessage).toMatch(/^page\.slug: expected lower-case letters, digits and dashes/);
    expect((await rejection(pages().putPage({ page: page('ok', { title: '  ' }) }))).rawMessage).toBe('page.title: expected a title');
    expect((await rejection(pages().putPage({ page: page('ok', { groups: [{ name: 'G', monitorIds: [''] }] }) }))).rawMessage).toBe('page.groups.0.monitor_ids.0: expected a monitor id');
    expect((await rejection(pages().putPage({}))).rawMessage).toBe('page: required');
    expect(await opened.statusPages.listPages()).toEqual([]);
  });

  it('concurrent puts of distinct pages all land; of one slug, one page remains', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => pages().putPage({ page: page(`p${i}`) })));
    await Promise.all(Array.from({ length: 10 }, (_, i) => pages().putPage({ page: page('same', { title: `t${i}` }) })));
    const listed = (await pages().listPages({})).pages;
    expect(listed).toHaveLength(11);
    expect(listed.filter((p) => p.slug === 'same')).toHaveLength(1);
  });

  it('on a real server (web port and main port) reads need viewer, writes editor', async () => {
    const t = await startWebServer({ api_keys: ['read-key-1:viewer', 'edit-key-1:editor'], monitoring_enabled: true, worker_port: 0, worker_host: '127.0.0.1' });
    try {
      for (const url of [t.base, t.server.url]) {
        const at = (key: string, method: string, body: unknown) => call(url, `/vantage.v1.${method}`, { body, apiKey: key });
        expect((await at('read-key-1', 'StatusPagesService/PutPage', { page: page('acme') })).json.code).toBe('permission_denied');
        expect((await at('read-key-1', 'MaintenanceService/PutWindow', { window: { title: 'x' } })).json.code).toBe('permission_denied');
        const put = await at('edit-key-1', 'StatusPagesService/PutPage', { page: page('acme') });
        expect(put.status).toBe(200);
        expect(put.json.page.slug).toBe('acme');
        const bad = await at('edit-key-1', 'MaintenanceService/PutWindow', { window: { title: 'x', schedule: { kind: 'once', startsAtMs: '2000', endsAtMs: '1000' }, targets: { monitorIds: ['m'] } } });
        expect(bad.json).toMatchObject({ code: 'invalid_argument', message: 'window.schedule.ends_at: expected a time after starts_at' });
        expect((await at('read-key-1', 'StatusPagesService/ListPages', {})).json.pages).toHaveLength(1);
        expect((await at('read-key-1', 'MaintenanceService/ListWindows', {})).status).toBe(200);
        expect((await at('read-key-1', 'StatusPagesService/DeletePage', { slug: 'acme' })).json.code).toBe('permission_denied');
        expect((await at('edit-key-1', 'StatusPagesService/DeletePage', { slug: 'acme' })).status).toBe(200);
      }
    } finally {
      await t.close();
    }
  });
});

describe('MaintenanceService', () => {
  const once = (startsAtMs: bigint, endsAtMs: bigint) => ({ kind: 'once', startsAtMs, endsAtMs });

  it('a window put through the API covers its monitors in the calendar; replacing and deleting it reload the calendar', async () => {
    const now = Date.now();
    const { window: w } = await windows().putWindow({ window: { title: 'DB upgrade', description: '', schedule: once(BigInt(now - 60_000), BigInt(now + 3_600_000)), targets: { monitorIds: ['mon_db'] } } });
    expect(w!.id).toMatch(/^mw_/);
    await reloaded();
    expect(calendar.activeFor('mon_db', now)).toMatchObject({ id: w!.id, title: 'DB upgrade' });
    expect(calendar.activeFor('mon_other', now)).toBeNull();

    await windows().putWindow({ window: { id: w!.id, title: 'DB upgrade', description: '', schedule: once(BigInt(now - 60_000), BigInt(now + 3_600_000)), targets: { monitorIds: ['mon_other'] } } });
    await reloaded();
    expect(calendar.activeFor('mon_db', now)).toBeNull();
    expect(calendar.activeFor('mon_other', now)).not.toBeNull();
    expect((await windows().listWindows({})).windows).toHaveLength(1);

    await windows().deleteWindow({ id: w!.id });
    await reloaded();
    expect(calendar.activeFor('mon_other', now)).toBeNull();
    expect((await rejection(windows().deleteWindow({ id: w!.id }))).code).toBe(Code.NotFound);
  });

  it('a window targeting a status page covers the page groups once the page exists', async () => {
    const now = Date.now();
    await windows().putWindow({ window: { title: 'Page-wide', description: '', schedule: once(BigInt(now - 1000), BigInt(now + 60_000)), targets: { statusPages: ['acme'] } } });
    await reloaded();
    expect(calendar.activeFor('mon_a', now)).toBeNull();
    await pages().putPage({ page: page('acme') });
    await reloaded();
    expect(calendar.activeFor('mon_a', now)).toMatchObject({ title: 'Page-wide' });
  });

  it('bad input names the field (schedule errors come from scheduleError)', async () => {
    const t = { monitorIds: ['m'] };
    const msg = async (window: Record<string, unknown>) => (await rejection(windows().putWindow({ window: window as never }))).rawMessage;
    expect(await msg({ title: 'x', schedule: once(2000n, 1000n), targets: t })).toBe('window.schedule.ends_at: expected a time after starts_at');
    expect(await msg({ title: 'x', schedule: { kind: 'weekly', weekdays: [0], start: '02:00', durationMs: 3_600_000n, timezone: 'Mars/Base' }, targets: t })).toMatch(/^window\.schedule\.timezone: expected an IANA timezone name/);
    expect(await msg({ title: 'x', schedule: { kind: 'weekly', weekdays: [9], start: '02:00', durationMs: 3_600_000n, timezone: 'UTC' }, targets: t })).toMatch(/^window\.schedule\.weekdays: expected one or more of sun/);
    expect(await msg({ title: 'x', schedule: { kind: 'cron', expression: 'not cron', durationMs: 3_600_000n, timezone: 'UTC' }, targets: t })).toMatch(/^window\.schedule\.cron: expected a cron expression/);
    expect(await msg({ title: 'x', schedule: { kind: 'yearly' }, targets: t })).toBe('window.schedule.kind: expected once, weekly or cron');
    expect(await msg({ title: 'x', targets: t })).toBe('window.schedule: required');
    expect(await msg({ title: '', schedule: once(1000n, 2000n), targets: t })).toBe('window.title: expected a title');
    expect(await msg({ title: 'x', schedule: once(1000n, 2000n), targets: {} })).toBe('window.targets: expected at least one monitor id, group or status page');
    expect(await msg({ title: 'x', schedule: once(1000n, 2000n), targets: { statusPages: ['Bad Slug'] } })).toMatch(/^window\.targets\.status_pages\.0: expected lower-case/);
    expect((await rejection(windows().putWindow({ window: { id: 'mw_nope', title: 'x', schedule: once(1000n, 2000n), targets: t } }))).code).toBe(Code.NotFound);
    expect(await opened.statusPages.listWindows()).toEqual([]);
  });
});

describe('the CLI', () => {
  it('status-page put / list / rm round trip', async () => {
    const put = await cli('status-page', 'put', 'acme', '--title', 'Acme', '--group', 'API=mon_a,mon_b', '--group', 'Web=mon_c');
    expect(put).toMatchObject({ code: 0, out: 'saved acme (2 group(s))' });
    expect((await opened.statusPages.getPage('acme'))!.groups).toEqual([{ name: 'API', monitorIds: ['mon_a', 'mon_b'] }, { name: 'Web', monitorIds: ['mon_c'] }]);
    const list = await cli('status-page', 'list');
    expect(list.out.split('\n')).toEqual(['SLUG  TITLE  GROUPS  MONITORS', 'acme  Acme   2       3']);
    expect(JSON.parse((await cli('status-page', 'list', '--json')).out)[0]).toMatchObject({ slug: 'acme', title: 'Acme' });
    const bad = await cli('status-page', 'put', 'UPPER', '--title', 'x');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: page\.slug: expected lower-case/);
    expect((await cli('status-page', 'put', 'x', '--title', 'x', '--group', 'nogroup')).err).toBe('error: --group: expected "Group name=monitorId,monitorId", got "nogroup"');
    expect(await cli('status-page', 'rm', 'acme')).toMatchObject({ code: 0, out: 'deleted acme' });
    expect((await cli('status-page', 'rm', 'acme')).code).toBe(4);
    expect((await cli('status-page', 'list')).out).toBe('no status pages');
  });

  it('maintenance add / list / rm round trip (one-off, weekly, cron)', async () => {
    const one = await cli('maintenance', 'add', '--title', 'Upgrade', '--starts', '2026-12-24T02:00:00Z', '--ends', '2026-12-24T04:00:00Z', '--monitor', 'mon_a');
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/^created mw_\S+ \(2026-12-24T02:00:00\.000Z → 2026-12-24T04:00:00\.000Z\)$/);
    const weekly = await cli('maintenance', 'add', '--title', 'Backups', '--weekly', 'sun,wed', '--at', '02:00', '--duration', '2h', '--timezone', 'Europe/Amsterdam', '--group', 'API');
    expect(weekly.out).toMatch(/^created mw_\S+ \(sun,wed 02:00 for 2h \(Europe\/Amsterdam\)\)$/);
    const cron = await cli('maintenance', 'add', '--title', 'Nightly', '--cron', '0 3 * * *', '--duration', '30m', '--status-page', 'acme');
    expect(cron.code).toBe(0);
    const stored = await opened.statusPages.listWindows();
    expect(stored.map((w) => w.schedule.kind).sort()).toEqual(['cron', 'once', 'weekly']);
    expect(stored.find((w) => w.title === 'Backups')!.schedule).toEqual({ kind: 'weekly', weekdays: [0, 3], start: '02:00', durationMs: 7_200_000, timezone: 'Europe/Amsterdam' });
    const list = await cli('maintenance', 'list');
    expect(list.out.split('\n')).toHaveLength(4);
    expect(list.out).toContain('page:acme');

    const badTz = await cli('maintenance', 'add', '--title', 'x', '--weekly', 'sun', '--at', '02:00', '--duration', '1h', '--timezone', 'Nowhere/City', '--monitor', 'm');
    expect(badTz.code).toBe(2);
    expect(badTz.err).toMatch(/^error: window\.schedule\.timezone: expected an IANA timezone name/);
    expect((await cli('maintenance', 'add', '--title', 'x', '--weekly', 'funday', '--at', '02:00', '--duration', '1h', '--monitor', 'm')).err).toMatch(/^error: --weekly: expected days/);
    expect((await cli('maintenance', 'add', '--title', 'x', '--monitor', 'm')).err).toMatch(/^error: schedule: expected exactly one of/);

    const id = one.out.split(' ')[1]!;
    expect(await cli('maintenance', 'rm', id)).toMatchObject({ code: 0, out: `deleted ${id}` });
    expect((await cli('maintenance', 'rm', id)).code).toBe(4);
    expect(await opened.statusPages.listWindows()).toHaveLength(2);
  });
});
