/**
 * server.yml `status_pages:` and `maintenance:`: validated at load with the field named, applied by
 * startStatusPages (the server's composition) on a real SQLite file after the monitors exist — pages upserted
 * by slug, windows by name, API-created ones left alone, an unknown monitor refused naming the entry with nothing
 * written — and served with the configured cache period.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig } from '../../src/config/load.js';
import type { ServerConfig } from '../../src/config/server.js';
import { STATUS_PAGE_FIELDS } from '../../src/config/status-pages.js';
import { startStatusPages, type StatusPagesPlane } from '../../src/app/status-pages.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { spec } from '../store/contract/fixtures.js';

const NOW = Date.UTC(2026, 5, 15, 12, 0);
let dir: string;
let opened: OpenedStore;
let plane: StatusPagesPlane | null;
let server: Server | null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-sp-config-'));
  opened = openSqliteStore(join(dir, 'vantage.db'));
  plane = null;
  server = null;
});
afterEach(async () => {
  await plane?.close();
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function load(yaml: string): ServerConfig {
  const file = join(dir, `server${n++}.yml`);
  writeFileSync(file, yaml);
  return loadServerConfig({ file }).config;
}
function issues(yaml: string): string[] {
  try {
    load(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const YAML = `
status_page_cache_seconds: 120
status_pages:
  - slug: public
    title: Acme status
    description: All systems
    groups:
      - name: API
        monitors: [checkout-api, mon_search]
      - name: Website
        monitors: [www]
maintenance:
  - name: db-upgrade
    title: DB upgrade
    starts_at: "2026-12-24T02:00:00Z"
    ends_at: "2026-12-24T04:00:00Z"
    monitors: [checkout-api]
  - name: backups
    every: [sun, wed]
    start: "02:00"
    duration: 2h
    timezone: Europe/Amsterdam
    groups: [API]
  - name: nightly
    cron: "0 3 * * *"
    duration: 30m
    status_pages: [public]
`;

async function seedMonitors(): Promise<void> {
  await opened.monitoring.createMonitor(spec({ name: 'checkout-api' }), { id: 'mon_checkout', actor: 'test', now: NOW, jitterSeed: 1 });
  await opened.monitoring.createMonitor(spec({ name: 'search' }), { id: 'mon_search', actor: 'test', now: NOW, jitterSeed: 1 });
  await opened.monitoring.createMonitor(spec({ name: 'www' }), { id: 'mon_www', actor: 'test', now: NOW, jitterSeed: 1 });
}

async function start(config: ServerConfig): Promise<StatusPagesPlane> {
  plane = await startStatusPages({ config, store: opened, logger: pino({ level: 'silent' }), now: () => NOW });
  return plane;
}

describe('status_pages and maintenance in server.yml', () => {
  it('load: schedules parsed from the Gatus-style fields; defaults are empty with a 30 s cache and maintenance excluded', () => {
    const c = load(YAML);
    expect(c.status_pages[0]).toMatchObject({ slug: 'public', show_targets: false, groups: [{ name: 'API', monitors: ['checkout-api', 'mon_search'] }, { name: 'Website', monitors: ['www'] }] });
    expect(c.maintenance.map((w) => w.schedule)).toEqual([
      { kind: 'once', startsAt: Date.UTC(2026, 11, 24, 2), endsAt: Date.UTC(2026, 11, 24, 4) },
      { kind: 'weekly', weekdays: [0, 3], start: '02:00', durationMs: 7_200_000, timezone: 'Europe/Amsterdam' },
      { kind: 'cron', expression: '0 3 * * *', durationMs: 1_800_000, timezone: 'UTC' },
    ]);
    expect(c.maintenance[1]!.title).toBe('backups'); // the name when no title is given
    // The examples printed in deploy/server.example.yml are valid entries.
    expect(STATUS_PAGE_FIELDS.status_pages.schema.safeParse(STATUS_PAGE_FIELDS.status_pages.example).success).toBe(true);
    expect(STATUS_PAGE_FIELDS.maintenance.schema.safeParse(STATUS_PAGE_FIELDS.maintenance.example).success).toBe(true);
    const d = load('port: 8080\n');
    expect([d.status_pages, d.maintenance, d.status_page_cache_seconds, d.status_uptime_excludes_maintenance]).toEqual([[], [], 30, true]);
  });

  it('load: bad entries name the field', () => {
    const bad = (entry: string) => issues(`maintenance:\n  - ${entry}\n`).join('\n');
    expect(bad('{name: w, every: [sun], start: "02:00", duration: 1h, timezone: Mars/Olympus, monitors: [a]}')).toMatch(/maintenance\[0\]\.timezone: expected an IANA timezone name such as Europe\/Amsterdam, got "Mars\/Olympus"/);
    expect(bad('{name: w, every: [someday], start: "02:00", duration: 1h, monitors: [a]}')).toMatch(/maintenance\[0\]\.every: expected one or more of sun, mon/);
    expect(bad('{name: w, every: [sun], start: "2am", duration: 1h, monitors: [a]}')).toMatch(/maintenance\[0\]\.start: expected/);
    expect(bad('{name: w, cron: "not cron", duration: 1h, monitors: [a]}')).toMatch(/maintenance\[0\]\.cron: expected a cron expression/);
    expect(bad('{name: w, cron: "0 3 * * *", monitors: [a]}')).toMatch(/maintenance\[0\]\.duration: expected a duration/);
    expect(bad('{name: w, starts_at: "2026-12-24T04:00:00Z", ends_at: "2026-12-24T02:00:00Z", monitors: [a]}')).toMatch(/maintenance\[0\]\.ends_at: expected a time after starts_at/);
    expect(bad('{name: w, starts_at: "tomorrow", ends_at: "2026-12-24T02:00:00Z", monitors: [a]}')).toMatch(/maintenance\[0\]\.starts_at: expected an ISO 8601 time/);
    expect(bad('{name: w, cron: "0 3 * * *", every: [sun], duration: 1h, monitors: [a]}')).toMatch(/maintenance\[0\]\.starts_at: expected exactly one schedule/);
    expect(bad('{name: w, cron: "0 3 * * *", duration: 1h}')).toMatch(/maintenance\[0\]\.monitors: expected at least one of monitors, groups or status_pages/);
    expect(bad('{name: "Not A Slug", cron: "0 3 * * *", duration: 1h, monitors: [a]}')).toMatch(/maintenance\[0\]\.name: expected lower-case letters/);
    expect(bad('{name: w, cron: "0 3 * * *", duration: 1h, monitor: [a]}')).toMatch(/maintenance\[0\]: unknown key "monitor" — did you mean "monitors"\?/);
    const pages = issues('status_pages:\n  - {slug: Public, title: x}\n  - {slug: b, title: ""}\n  - {slug: c, title: c, groups: [{name: g, monitor: [a]}]}\n').join('\n');
    expect(pages).toMatch(/status_pages\[0\]\.slug: expected lower-case letters/);
    expect(pages).toMatch(/status_pages\[1\]\.title: expected a title/);
    expect(pages).toMatch(/status_pages\[2\]\.groups\[0\]: unknown key "monitor" — did you mean "monitors"\?/);
    expect(issues('status_pages:\n  - {slug: a, title: x}\n  - {slug: a, title: y}\n').join('\n')).toMatch(/status_pages\[1\]: expected each slug once, "a" is repeated/);
    expect(issues('status_page_cache_seconds: -1\n').join('\n')).toMatch(/status_page_cache_seconds: expected an integer from 0 to 86400/);
  });

  it('applied at start by slug and name, re-applied without duplicates; API-created pages and windows are left alone', async () => {
    await seedMonitors();
    const apiPage = await opened.statusPages.upsertPage({ slug: 'internal', title: 'Internal', description: '', groups: [], showTargets: false }, NOW - 1000);
    const apiWindow = await opened.statusPages.createWindow({ title: 'API window', description: '', schedule: { kind: 'once', startsAt: NOW, endsAt: NOW + 1000 }, targets: { monitorIds: ['mon_www'], groups: [], statusPages: [] } }, { id: 'mw_api1', now: NOW - 1000 });
    const p = await start(load(YAML));
    await p.applyConfig(load(YAML));
    const page = await opened.statusPages.getPage('public');
    expect(page).toMatchObject({ title: 'Acme status', groups: [{ name: 'API', monitorIds: ['mon_checkout', 'mon_search'] }, { name: 'Website', monitorIds: ['mon_www'] }] });
    const windows = await opened.statusPages.listWindows();
    expect(windows.map((w) => w.id).sort()).toEqual(['mw-config-backups', 'mw-config-db-upgrade', 'mw-config-nightly', 'mw_api1']);
    expect(windows.find((w) => w.id === 'mw-config-db-upgrade')!.targets).toEqual({ monitorIds: ['mon_checkout'], groups: [], statusPages: [] });
    expect(await opened.statusPages.getPage('internal')).toEqual(apiPage);
    expect(await opened.statusPages.getWindow('mw_api1')).toEqual(apiWindow);
    // The calendar sees the config windows: Sunday 02:00 Amsterdam (group API of the config page) and the nightly
    // 03:00 UTC window of the whole page.
    expect(p.calendar.calendar.intervalsFor('mon_search', Date.UTC(2026, 5, 14), Date.UTC(2026, 5, 15))).toEqual([
      { start: Date.UTC(2026, 5, 14, 0), end: Date.UTC(2026, 5, 14, 2) },
      { start: Date.UTC(2026, 5, 14, 3), end: Date.UTC(2026, 5, 14, 3, 30) },
    ]);

    // A reload with an edited entry updates it in place; an entry removed from server.yml stays.
    await p.applyConfig(load(YAML.replace('title: DB upgrade', 'title: DB upgrade (moved)').replace(/ {2}- name: nightly[\s\S]*$/, '')));
    expect((await opened.statusPages.getWindow('mw-config-db-upgrade'))!.title).toBe('DB upgrade (moved)');
    expect(await opened.statusPages.getWindow('mw-config-nightly')).not.toBeNull();
    expect((await opened.statusPages.listWindows())).toHaveLength(4);
  });

  it('an unknown monitor stops the apply naming the entry, and nothing is written', async () => {
    await seedMonitors();
    const p = await start(load('port: 8080\n'));
    const bad = YAML.replace('monitors: [www]', 'monitors: [www, nope]');
    await expect(p.applyConfig(load(bad))).rejects.toThrow('server.yml: status_pages[0] (public).groups[1].monitors[1]: no monitor named (or with id) "nope"');
    expect(await opened.statusPages.listPages()).toEqual([]);
    expect(await opened.statusPages.listWindows()).toEqual([]);
  });

  it('the configured cache period is served (and a reload changes it)', async () => {
    await seedMonitors();
    const p = await start(load(YAML));
    await p.applyConfig(load(YAML));
    server = createServer((req, res) => {
      void (async () => {
        for (const r of p.routes) if (await r(req, res, null)) return;
        res.writeHead(404).end();
      })();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/status/public.json`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('public, max-age=120');
    expect(((await first.json()) as { groups: { monitors: { id: string }[] }[] }).groups.map((g) => g.monitors.map((m) => m.id))).toEqual([['mon_checkout', 'mon_search'], ['mon_www']]);
    await p.applyConfig(load(YAML.replace('status_page_cache_seconds: 120', 'status_page_cache_seconds: 5')));
    expect((await fetch(url)).headers.get('cache-control')).toBe('public, max-age=5');
  });
});
