/**
 * The dashboard in a real browser (playwright-core driving Debian's chromium) against a real `vantage server
 * --with-agent` (built: dist/cli/main.js and dist/web), its web listener (web_port) and the local agent:
 *  - the setup link from the startup log creates the first admin ("Create admin");
 *  - a monitor created through the form shows its first results and the uptime bar within its interval;
 *  - the fleet page shows the local agent with real, changing per-core figures;
 *  - every page renders without console errors; screenshots go to test/browser/screenshots/ (ignored).
 * Written against the web contract (/work/tools/web-contract.md): it needs the web listener of the
 * web-platform branch, and is run by `npm run test:browser` (not by the default suite).
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

let srv: ServerProcess;
let browser: Browser;
let page: Page;
let target: http.Server;
let targetUrl = '';
let webUrl = '';
const consoleErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // The monitored service: a real HTTP server on loopback.
  target = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
  const tmp = tempDir();
  const tiers = [{ name: 'small', vcpu: 0, memory_gb: 0.1, storage_gb: 0.1 }];
  srv = await spawnServer(tmp.dir, { tiers, monitoring_enabled: true, worker_port: 0, web_port: 0, web_tls_disable: true }, ['--with-agent', '--demo-port', '0']);
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
  await new Promise<void>((r) => (target ? target.close(() => r()) : r()));
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

describe('dashboard in Chromium', () => {
  it('creates a monitor through the form and shows its first results and the uptime bar within its interval', async () => {
    await page.getByRole('link', { name: 'Monitors' }).click();
    await page.getByRole('button', { name: 'New monitor' }).click();
    const form = page.getByRole('form', { name: 'New monitor' });
    await form.getByLabel('Name').fill('browser-target');
    await form.getByLabel('URL').fill(targetUrl);
    // A bad interval first: the server's message appears at the field.
    await form.getByLabel('Interval (seconds)').fill('0.5');
    await form.getByRole('button', { name: 'Create monitor' }).click();
    await expect(form.locator('[data-field="interval_ms"]').textContent()).resolves.toMatch(/interval_ms: must be between/);
    await form.getByLabel('Interval (seconds)').fill('5');
    await form.getByRole('button', { name: 'Create monitor' }).click();
    await page.getByRole('heading', { name: /browser-target/ }).waitFor();
    const created = Date.now();
    // The first result arrives within the interval (plus the dispatch lead), and the bar shows it.
    await page.locator('[aria-label="last 90 checks"] span.up').first().waitFor({ timeout: 15_000 });
    expect(Date.now() - created).toBeLessThan(15_000);
    await page.locator('table[aria-label="recent results"] tbody tr').first().waitFor();
    await shot('monitor-detail');
  }, 60_000);

  it('shows the local agent on the fleet page with real, changing figures', async () => {
    await page.getByRole('link', { name: 'Fleet' }).click();
    const card = page.locator('[data-backend]').first();
    await card.waitFor({ timeout: 15_000 });
    const cores = card.locator('.cores');
    await cores.waitFor({ timeout: 15_000 });
    const first = await cores.getAttribute('aria-label');
    expect(first).toMatch(/^CPU per core: \d/);
    const seen = await card.getAttribute('data-stats-at');
    expect(Number(seen)).toBeGreaterThan(0);
    // The agent reports every few seconds and the page follows the live stream: a newer report replaces the card's
    // figures. Whole-percent figures can repeat on a machine whose cores are pegged, so the report's own time is
    // what must change; the figures shown with it must still be well-formed per-core readings.
    await waitFor(async () => ((await card.getAttribute('data-stats-at')) !== seen ? true : null), 'a new resource report on the page', 30_000, 200);
    expect(Number(await card.getAttribute('data-stats-at'))).toBeGreaterThan(Number(seen));
    await expect(cores.getAttribute('aria-label')).resolves.toMatch(/^CPU per core: \d+(, \d+)* %$/);
    await expect(card.textContent()).resolves.toMatch(/memory \d+\.\d GB \/ \d+\.\d GB/);
    await shot('fleet');
  }, 60_000);

  it('renders every page without console errors', async () => {
    // Only this walk counts: the sign-in check before setup answers 401 by contract (not signed in yet).
    consoleErrors.length = 0;
    for (const [name, path] of [
      ['overview', '/'],
      ['monitors', '/monitors'],
      ['fleet', '/fleet'],
      ['workers', '/workers'],
      ['users', '/users'],
      ['audit', '/audit'],
    ] as const) {
      await page.goto(`${webUrl}${path}`);
      await page.locator('h1').first().waitFor();
      await shot(name);
    }
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
