/**
 * The incidents and alert-channel pages in a real browser (playwright-core driving Debian's chromium) against a
 * real `vantage server` (built: dist/cli/main.js and dist/web) with alerting on, and a real webhook receiver on
 * loopback as its one alert channel:
 *  - a manual incident created through the "New incident" form is listed, open, on /incidents, above a newer
 *    resolved one;
 *  - an update posted through its detail page appears in the timeline, and "Acknowledge" records the admin;
 *  - the channel page lists the webhook with its secret masked, and "Send test" reaches the receiver;
 *  - a viewer sees both pages without the Acknowledge, New incident, update and Send test controls;
 *  - both pages render without console errors. Run by `npm run test:browser` (needs `npm run build`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { spawnServer, tempDir, waitFor, type ServerProcess } from '../server/helpers.js';

const SHOTS = join(process.cwd(), 'test/browser/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SECRET = 'webhook-secret-do-not-show';

let srv: ServerProcess;
let browser: Browser;
let page: Page;
let receiver: http.Server;
const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
let webUrl = '';
const consoleErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // The alert channel's endpoint: a real HTTP server on loopback that records what it is sent.
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const tmp = tempDir();
  srv = await spawnServer(tmp.dir, {
    monitoring_enabled: true,
    web_port: 0,
    web_tls_disable: true,
    alert_channels: [{ name: 'ops-hook', type: 'webhook', default: true, settings: { url: hookUrl, secret: SECRET } }],
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
  await page.goto(`${webUrl}/setup?token=${link[2]!}`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create admin' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await srv?.stop();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe('incidents and alert channels in Chromium', () => {
  it('creates a manual incident through the form, lists it, posts an update and shows it in the timeline', async () => {
    await page.getByRole('link', { name: 'Incidents' }).click();
    await page.getByRole('heading', { name: 'Incidents' }).waitFor();
    await page.getByRole('button', { name: 'New incident' }).click();
    const form = page.getByRole('form', { name: 'New incident' });
    // An empty title first: the server's message naming the field is shown.
    await form.getByRole('button', { name: 'Create incident' }).click();
    await expect(form.getByRole('alert').textContent()).resolves.toMatch(/title: expected a title/);
    await form.getByLabel('Title').fill('Database failover');
    await form.getByLabel('Impact').selectOption('major');
    await form.getByLabel('Message').fill('Primary is unreachable, failing over.');
    await form.getByRole('button', { name: 'Create incident' }).click();
    await page.getByRole('heading', { name: 'Database failover' }).waitFor();
    const timeline = page.getByRole('list', { name: 'timeline' });
    await timeline.getByText('Primary is unreachable, failing over.').waitFor();

    // A newer incident that is already resolved: the list still shows the open one first.
    await page.getByRole('link', { name: 'Incidents' }).click();
    await page.getByRole('button', { name: 'New incident' }).click();
    await form.getByLabel('Title').fill('Cache flush done');
    await form.getByLabel('Status').selectOption('resolved');
    await form.getByRole('button', { name: 'Create incident' }).click();
    await page.getByRole('heading', { name: 'Cache flush done' }).waitFor();

    // Listed on /incidents, open, with its status and impact, above the resolved one.
    await page.getByRole('link', { name: 'Incidents' }).click();
    const rows = page.locator('table[aria-label="incidents"] tbody tr');
    const row = rows.filter({ hasText: 'Database failover' });
    await row.waitFor();
    await rows.filter({ hasText: 'Cache flush done' }).waitFor();
    await expect(rows.allTextContents()).resolves.toEqual([expect.stringContaining('Database failover'), expect.stringContaining('Cache flush done')]);
    await expect(rows.nth(1).getAttribute('class')).resolves.toBe('');
    await expect(row.getAttribute('class')).resolves.toBe('open');
    await expect(row.textContent()).resolves.toMatch(/investigating.*major/);

    // The detail: acknowledge, then post an update that moves it to "monitoring".
    await row.getByRole('link', { name: 'Database failover' }).click();
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await expect(page.locator('p[data-ack="yes"]').textContent()).resolves.toMatch(/^Acknowledged by user:admin at /);
    await page.getByRole('list', { name: 'timeline' }).getByText('acknowledged by user:admin').waitFor();
    expect(await page.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
    const upd = page.getByRole('form', { name: 'Post update' });
    await upd.getByLabel('Status').selectOption('monitoring');
    await upd.getByLabel('Message').fill('Replica promoted; watching error rates.');
    await upd.getByRole('button', { name: 'Post update' }).click();
    await page.getByRole('list', { name: 'timeline' }).getByText('Replica promoted; watching error rates.').waitFor();
    await expect(page.locator('.card').first().textContent()).resolves.toMatch(/Status monitoring/);
    // The update is stored, not only shown: a fresh load of the page has it.
    await page.reload();
    await page.getByRole('list', { name: 'timeline' }).getByText('Replica promoted; watching error rates.').waitFor();
    await shot('incident-detail');
  }, 60_000);

  it('lists the alert channel with its secret masked and sends a test to the receiver', async () => {
    await page.getByRole('link', { name: 'Alert channels' }).click();
    const row = page.locator('table[aria-label="channels"] tbody tr', { hasText: 'ops-hook' });
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('webhook');
    expect(text).not.toContain(SECRET);
    expect(await page.content()).not.toContain(SECRET);
    const before = received.length;
    await row.getByRole('button', { name: 'Send test' }).click();
    await expect(row.getByRole('status').textContent()).resolves.toMatch(/^sent/);
    await waitFor(() => (received.length > before ? true : null), 'the test notification at the receiver', 10_000, 50);
    expect(received[received.length - 1]!.headers['x-vantage-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    await shot('alert-channels');
  }, 60_000);

  it('shows a viewer the incidents and channels but no Acknowledge, New incident, update form or Send test', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    const form = page.getByRole('form', { name: 'new user' });
    await form.getByLabel('Username').fill('watcher');
    await form.getByLabel('Password').fill('correct horse viewer');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('cell', { name: 'watcher' }).waitFor();
    // A separate browser context: its own cookies, so the admin's session stays signed in.
    const ctx = await browser.newContext();
    try {
      const v = await ctx.newPage();
      await v.goto(`${webUrl}/incidents`);
      await v.getByLabel('Username').fill('watcher');
      await v.getByLabel('Password').fill('correct horse viewer');
      await v.getByRole('button', { name: 'Sign in' }).click();
      await v.getByRole('link', { name: 'Incidents' }).click();
      const row = v.locator('table[aria-label="incidents"] tbody tr', { hasText: 'Database failover' });
      await row.waitFor();
      expect(await v.getByRole('button', { name: 'New incident' }).count()).toBe(0);
      await row.getByRole('link', { name: 'Database failover' }).click();
      await v.getByRole('list', { name: 'timeline' }).getByText('Replica promoted; watching error rates.').waitFor();
      expect(await v.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
      expect(await v.getByRole('form', { name: 'Post update' }).count()).toBe(0);
      await v.getByRole('link', { name: 'Alert channels' }).click();
      await v.locator('table[aria-label="channels"] tbody tr', { hasText: 'ops-hook' }).waitFor();
      expect(await v.getByRole('button', { name: 'Send test' }).count()).toBe(0);
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it('renders the incidents and alert channel pages without console errors', async () => {
    consoleErrors.length = 0;
    for (const [name, path] of [
      ['incidents', '/incidents'],
      ['alerts', '/alerts'],
    ] as const) {
      await page.goto(`${webUrl}${path}`);
      await page.locator('h1').first().waitFor();
      await page.locator('table').first().waitFor();
      await shot(name);
    }
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
