/**
 * The status-page, maintenance, alert-channel and alert-rule pages in a real browser (playwright-core driving
 * Debian's chromium) against a real `vantage server` (built: dist/cli/main.js and dist/web), with a real
 * webhook receiver on loopback:
 *  - a status page created through the form (after the server's slug message is shown at the field) is listed
 *    and served publicly at /status/<slug> with its monitors, to a browser that is not signed in;
 *  - a weekly window (after a bad timezone is refused at its field) is listed as upcoming, a one-off window
 *    covering now as active, and the public page shows it; a deleted window disappears;
 *  - a webhook channel is created, edited without re-entering its secret, and "Send test" is signed with the
 *    original secret, which never appears on the page; server.yml channels offer no Edit;
 *  - a monitor's rule override set on its page (after a bad threshold is refused at its field) reads back
 *    after a reload;
 *  - a viewer sees these pages without any edit control, and an incident opened meanwhile appears on the
 *    viewer's open incidents page without a reload (the live stream's `incidents` event);
 *  - every page renders without console errors. Run by `npm run test:browser` (needs `npm run build`).
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { spawnServer, tempDir, waitFor, type ServerProcess } from '../server/helpers.js';

const SHOTS = join(process.cwd(), 'test/browser/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CONFIG_SECRET = 'config-secret-do-not-show';
const SECRET = 'team-hook-secret-do-not-show';

let srv: ServerProcess;
let browser: Browser;
let page: Page;
let receiver: http.Server;
let hookBase = '';
const received: Array<{ path: string; headers: http.IncomingHttpHeaders; body: string }> = [];
let webUrl = '';
const consoleErrors: string[] = [];
const monitorIds: Record<string, string> = {};

/** Creates a monitor through the dashboard's form; returns its id (from the page it lands on). */
async function createMonitor(name: string): Promise<string> {
  await page.getByRole('link', { name: 'Monitors' }).click();
  await page.getByRole('button', { name: 'New monitor' }).click();
  const form = page.getByRole('form', { name: 'New monitor' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('URL').fill(`${hookBase}/${name.toLowerCase()}`);
  await form.getByRole('button', { name: 'Create monitor' }).click();
  await page.waitForURL(/\/monitors\/[^/]+$/);
  await page.getByRole('heading', { name }).waitFor();
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const tmp = tempDir();
  srv = await spawnServer(tmp.dir, {
    monitoring_enabled: true,
    web_port: 0,
    web_tls_disable: true,
    alert_channels: [{ name: 'ops-hook', type: 'webhook', default: true, settings: { url: `${hookBase}/ops`, secret: CONFIG_SECRET } }],
  });
  const link = await waitFor(() => /(https?:\/\/[^\s"]+)\/setup\?token=([A-Za-z0-9_-]+)/.exec(srv.output()), 'the setup link in the startup log', 20_000);
  webUrl = link[1]!;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${webUrl}/setup?token=${link[2]!}`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create admin' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  monitorIds.API = await createMonitor('API');
  monitorIds.Website = await createMonitor('Website');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.stop();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

/** The public page as a visitor without a session sees it (own context: no cookie, no cached copy). */
async function publicPage(slug: string): Promise<{ title: string; monitors: string[]; text: string }> {
  const ctx = await browser.newContext();
  try {
    const p = await ctx.newPage();
    const res = await p.goto(`${webUrl}/status/${slug}`);
    expect(res?.status()).toBe(200);
    return { title: await p.title(), monitors: await p.locator('.mon').evaluateAll((els) => els.map((e) => e.getAttribute('data-monitor') ?? '')), text: await p.locator('body').innerText() };
  } finally {
    await ctx.close();
  }
}

describe('status pages, maintenance, channels and rules in Chromium', () => {
  it('creates a status page through the form and serves it at /status/<slug>', async () => {
    await page.getByRole('link', { name: 'Status pages' }).click();
    await page.getByRole('heading', { name: 'Status pages' }).waitFor();
    await page.getByRole('button', { name: 'New status page' }).click();
    const form = page.getByRole('form', { name: 'New status page' });
    await form.getByLabel('Slug').fill('Not A Slug');
    await form.getByLabel('Title').fill('Acme status');
    await form.getByRole('button', { name: 'Create status page' }).click();
    await expect(form.locator('[data-field="slug"]').textContent()).resolves.toMatch(/^page\.slug: expected lower-case letters/);
    await form.getByLabel('Slug').fill('acme');
    await form.getByLabel('Group name').fill('Core');
    const picker = form.getByRole('group', { name: 'Monitors of Core' });
    await picker.getByLabel('API').check();
    await picker.getByLabel('Website').check();
    await form.getByLabel('Show target URLs').check();
    await form.getByRole('button', { name: 'Create status page' }).click();
    const row = page.locator('table[aria-label="status pages"] tbody tr[data-page="acme"]');
    await row.waitFor();
    await expect(row.textContent()).resolves.toMatch(/Acme status.*Core: API, Website/);
    await expect(row.getByRole('link', { name: '/status/acme' }).getAttribute('href')).resolves.toBe('/status/acme');

    // Served publicly with both monitors and (show targets) their URLs.
    const pub = await publicPage('acme');
    expect(pub.title).toBe('Acme status');
    expect(pub.monitors.sort()).toEqual([monitorIds.API, monitorIds.Website].sort());
    expect(pub.text).toContain(`${hookBase}/api`);

    // Edit: a new title and one monitor fewer; the slug stays.
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit status page' });
    await expect(edit.getByLabel('Slug').inputValue()).resolves.toBe('acme');
    await edit.getByLabel('Title').fill('Acme Inc. status');
    await edit.getByRole('group', { name: 'Monitors of Core' }).getByLabel('Website').uncheck();
    await edit.getByRole('button', { name: 'Save' }).click();
    await row.filter({ hasText: 'Acme Inc. status' }).waitFor();
    await expect(row.textContent()).resolves.toMatch(/Acme Inc\. status.*Core: API(?!, Website)/);
    const after = await publicPage('acme');
    expect(after.title).toBe('Acme Inc. status');
    expect(after.monitors).toEqual([monitorIds.API]);
    await shot('status-pages');
  }, 90_000);

  it('creates weekly and one-off maintenance windows, lists them by phase, and deletes one', async () => {
    await page.getByRole('link', { name: 'Maintenance' }).click();
    await page.getByRole('heading', { name: 'Maintenance' }).waitFor();
    await page.getByRole('button', { name: 'New maintenance window' }).click();
    const form = page.getByRole('form', { name: 'New maintenance window' });
    await form.getByLabel('Title').fill('DB patching');
    await form.getByLabel('Schedule').selectOption('weekly');
    await form.getByLabel('Timezone').fill('Mars/Olympus');
    await form.getByRole('group', { name: 'Weekdays' }).getByLabel('Mon').check();
    await form.getByLabel('Start (local time)').fill('02:00');
    await form.getByLabel('Duration (minutes)').fill('120');
    await form.getByRole('group', { name: 'Monitors' }).getByLabel('Website').check();
    await form.getByRole('button', { name: 'Create window' }).click();
    await expect(form.locator('[data-field="schedule.timezone"]').textContent()).resolves.toMatch(/^window\.schedule\.timezone: expected an IANA timezone name/);
    await form.getByLabel('Timezone').fill('Europe/Amsterdam');
    await form.getByRole('button', { name: 'Create window' }).click();
    const upcoming = page.locator('table[aria-label="upcoming maintenance windows"] tbody tr', { hasText: 'DB patching' });
    await upcoming.waitFor();
    await expect(upcoming.textContent()).resolves.toMatch(/weekly Mon 02:00 for 2 h \(Europe\/Amsterdam\).*Website/);

    // A one-off window covering now, for the whole status page: active, and on the public page.
    await page.getByRole('button', { name: 'New maintenance window' }).click();
    await form.getByLabel('Title').fill('Network upgrade');
    await form.getByLabel('Description').fill('Core switches are replaced.');
    await form.getByLabel('Timezone').fill('UTC');
    const iso = (t: number) => new Date(t).toISOString().slice(0, 16);
    await form.getByLabel('Starts').fill(iso(Date.now() - 3_600_000));
    await form.getByLabel('Ends').fill(iso(Date.now() + 3_600_000));
    await form.getByRole('group', { name: 'Whole status pages' }).getByLabel('Acme Inc. status').check();
    await form.getByRole('button', { name: 'Create window' }).click();
    const active = page.locator('table[aria-label="active maintenance windows"] tbody tr', { hasText: 'Network upgrade' });
    await active.waitFor();
    await expect(active.textContent()).resolves.toMatch(/once.*until .*page acme/);
    expect((await publicPage('acme')).text).toContain('Maintenance: Network upgrade');

    // Stored, not only shown: a reload lists both; then the weekly one is deleted.
    await page.reload();
    await upcoming.waitFor();
    await active.waitFor();
    await shot('maintenance');
    await upcoming.getByRole('button', { name: 'Delete' }).click();
    await waitFor(async () => ((await upcoming.count()) === 0 ? true : null), 'the deleted window to disappear', 10_000, 50);
    await active.waitFor();
  }, 90_000);

  it('creates a webhook channel, edits it without re-entering the secret, and never shows the secret', async () => {
    await page.getByRole('link', { name: 'Alert channels' }).click();
    const table = page.locator('table[aria-label="channels"]');
    const config = table.locator('tbody tr', { hasText: 'ops-hook' });
    await config.waitFor();
    await expect(config.textContent()).resolves.toContain('managed in server.yml');
    expect(await config.getByRole('button', { name: 'Edit' }).count()).toBe(0);

    await page.getByRole('button', { name: 'New channel' }).click();
    const form = page.getByRole('form', { name: 'New channel' });
    await form.getByLabel('Name', { exact: true }).fill('team-hook');
    await form.getByLabel('Type').selectOption('webhook');
    await form.getByLabel('URL').fill('not a url');
    await form.getByLabel('Signing secret', { exact: true }).fill(SECRET);
    await form.getByRole('button', { name: 'Create channel' }).click();
    await expect(form.locator('[data-field="settings.url"]').textContent()).resolves.toMatch(/^channel\.settings\.url: expected an http\(s\) URL/);
    await form.getByLabel('URL').fill(`${hookBase}/team-1`);
    await form.getByRole('button', { name: 'Create channel' }).click();
    const row = table.locator('tbody tr', { hasText: 'team-hook' });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('secret: ********');
    expect(await page.content()).not.toContain(SECRET);

    // Edit: the secret field is blank (the stored value is never sent to the page); only the URL changes.
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit channel' });
    await expect(edit.getByLabel('Signing secret', { exact: true }).inputValue()).resolves.toBe('');
    await expect(edit.getByLabel('Signing secret', { exact: true }).getAttribute('placeholder')).resolves.toBe('stored: leave blank to keep');
    await expect(edit.getByLabel('URL').inputValue()).resolves.toBe(`${hookBase}/team-1`);
    expect(await page.content()).not.toContain(SECRET);
    await edit.getByLabel('URL').fill(`${hookBase}/team-2`);
    await edit.getByRole('button', { name: 'Save' }).click();
    await row.filter({ hasText: `${hookBase}/team-2` }).waitFor();

    // The test notification goes to the new URL, signed with the secret entered at creation.
    const before = received.length;
    await row.getByRole('button', { name: 'Send test' }).click();
    await expect(row.getByRole('status').textContent()).resolves.toMatch(/^sent/);
    const got = await waitFor(() => received.slice(before).find((r) => r.path === '/team-2') ?? null, 'the test notification at the receiver', 10_000, 50);
    const ts = String(got.headers['x-vantage-timestamp']);
    expect(got.headers['x-vantage-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(`${ts}.${got.body}`).digest('hex')}`);
    expect(await page.content()).not.toContain(SECRET);
    expect(await page.content()).not.toContain(CONFIG_SECRET);
    await shot('alert-channels-edit');
  }, 90_000);

  it("sets a monitor's alert rule on its page and reads it back after a reload", async () => {
    await page.goto(`${webUrl}/monitors/${encodeURIComponent(monitorIds.Website!)}`);
    const rule = page.getByRole('table', { name: 'alert rule' });
    await rule.waitFor();
    await expect(rule.locator('tr[data-rule="failure_threshold"]').textContent()).resolves.toMatch(/failure threshold3$/);
    await page.getByRole('button', { name: 'Edit rule' }).click();
    const form = page.getByRole('form', { name: 'Alert rule override' });
    await form.getByLabel('Failure threshold (failed runs)').fill('0');
    await form.getByRole('button', { name: 'Save rule' }).click();
    await expect(form.locator('[data-field="failure_threshold"]').textContent()).resolves.toMatch(/^override_json\.failure_threshold: expected a positive integer/);
    await form.getByLabel('Failure threshold (failed runs)').fill('5');
    await form.getByLabel('Success threshold (passing runs)').fill('4');
    await form.getByLabel('Reminder every (minutes, 0 = off)').fill('15');
    await form.getByLabel('Degraded above p95 (ms, "off" = never)').fill('800');
    await form.getByRole('group', { name: 'Depends on' }).getByLabel('API').check();
    await form.getByRole('group', { name: /^Channels/ }).getByLabel('team-hook').check();
    await form.getByRole('button', { name: 'Save rule' }).click();
    await rule.locator('tr[data-rule="failure_threshold"]', { hasText: '5 (this monitor)' }).waitFor();
    await page.reload();
    await rule.waitFor();
    await expect(rule.locator('tr[data-rule="failure_threshold"]').textContent()).resolves.toBe('failure threshold5 (this monitor)');
    await expect(rule.locator('tr[data-rule="success_threshold"]').textContent()).resolves.toBe('success threshold4 (this monitor)');
    await expect(rule.locator('tr[data-rule="reminder_interval_ms"]').textContent()).resolves.toBe('reminder interval15 min (this monitor)');
    await expect(rule.locator('tr[data-rule="degraded_latency_ms"]').textContent()).resolves.toBe('degraded above p95800 ms (this monitor)');
    await expect(rule.locator('tr[data-rule="depends_on"]').textContent()).resolves.toBe(`depends on${monitorIds.API!} (this monitor)`);
    await expect(rule.locator('tr[data-rule="channels"]').textContent()).resolves.toBe('channelsteam-hook (this monitor)');
    // The editor starts from the stored override; "Clear override" returns to the defaults.
    await page.getByRole('button', { name: 'Edit rule' }).click();
    await expect(form.getByLabel('Failure threshold (failed runs)').inputValue()).resolves.toBe('5');
    await expect(form.getByRole('group', { name: 'Depends on' }).getByLabel('API').isChecked()).resolves.toBe(true);
    await shot('monitor-rule');
    await form.getByRole('button', { name: 'Clear override' }).click();
    await rule.locator('tr[data-rule="failure_threshold"]', { hasText: /^failure threshold3$/ }).waitFor();
    await page.reload();
    await rule.waitFor();
    await expect(rule.locator('tr[data-rule="failure_threshold"]').textContent()).resolves.toBe('failure threshold3');
  }, 90_000);

  it('shows a viewer these pages without any edit control', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    const form = page.getByRole('form', { name: 'new user' });
    await form.getByLabel('Username').fill('watcher');
    await form.getByLabel('Password').fill('correct horse viewer');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('cell', { name: 'watcher' }).waitFor();
    const ctx = await browser.newContext();
    try {
      const v = await ctx.newPage();
      await v.goto(`${webUrl}/status-pages`);
      await v.getByLabel('Username').fill('watcher');
      await v.getByLabel('Password').fill('correct horse viewer');
      await v.getByRole('button', { name: 'Sign in' }).click();
      const noButtons = async () => {
        for (const name of ['Edit', 'Delete', 'Save', 'New status page', 'New maintenance window', 'New channel', 'Edit rule', 'Send test']) {
          expect(await v.getByRole('button', { name, exact: true }).count(), name).toBe(0);
        }
      };
      await v.getByRole('link', { name: 'Status pages' }).click();
      await v.locator('table[aria-label="status pages"] tbody tr[data-page="acme"]').waitFor();
      await noButtons();
      await v.getByRole('link', { name: 'Maintenance' }).click();
      await v.locator('table[aria-label="active maintenance windows"] tbody tr', { hasText: 'Network upgrade' }).waitFor();
      await noButtons();
      await v.getByRole('link', { name: 'Alert channels' }).click();
      await v.locator('table[aria-label="channels"] tbody tr', { hasText: 'team-hook' }).waitFor();
      await noButtons();
      await v.goto(`${webUrl}/monitors/${encodeURIComponent(monitorIds.Website!)}`);
      await v.getByRole('table', { name: 'alert rule' }).waitFor();
      await noButtons();
    } finally {
      await ctx.close();
    }
  }, 90_000);

  it('shows an incident opened elsewhere on a viewer\'s open incidents page without a reload (live stream)', async () => {
    const ctx = await browser.newContext();
    try {
      const v = await ctx.newPage();
      await v.goto(`${webUrl}/incidents`);
      await v.getByLabel('Username').fill('watcher');
      await v.getByLabel('Password').fill('correct horse viewer');
      await v.getByRole('button', { name: 'Sign in' }).click();
      await v.getByRole('heading', { name: 'Incidents' }).waitFor();
      await v.getByText('No incidents.').waitFor();
      await page.goto(`${webUrl}/incidents`);
      await page.getByRole('button', { name: 'New incident' }).click();
      const form = page.getByRole('form', { name: 'New incident' });
      await form.getByLabel('Title').fill('Payments slow');
      await form.getByRole('button', { name: 'Create incident' }).click();
      await page.getByRole('heading', { name: 'Payments slow' }).waitFor();
      // The viewer's page was not reloaded: the row arrives through the `incidents` event (a 5 s tick).
      await v.locator('table[aria-label="incidents"] tbody tr', { hasText: 'Payments slow' }).waitFor({ timeout: 15_000 });
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('renders the pages without console errors', async () => {
    consoleErrors.length = 0;
    for (const [name, path, ready] of [
      ['status-pages-list', '/status-pages', 'table[aria-label="status pages"]'],
      ['maintenance-list', '/maintenance', 'table[aria-label="active maintenance windows"]'],
      ['alerts-list', '/alerts', 'table[aria-label="channels"]'],
      ['monitor-detail', `/monitors/${encodeURIComponent(monitorIds.API!)}`, 'table[aria-label="alert rule"]'],
    ] as const) {
      await page.goto(`${webUrl}${path}`);
      await page.locator(ready).waitFor();
      await shot(name);
    }
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
