/// <reference lib="dom" />
/**
 * A status page rendered in Chromium (Debian's /usr/bin/chromium through playwright-core): the page lays out
 * without script, shows the overall state, one 90-day bar per monitor, and the badges parse as SVG in the
 * browser's own XML parser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { seedRuns, startFixture, type Fixture } from '../status-pages/fixture.js';

const NOW = Date.UTC(2026, 5, 15, 12, 30);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let f: Fixture;
let browser: Browser;
beforeAll(async () => {
  f = await startFixture({ now: () => NOW });
  await seedRuns(f.opened, 'm1', Array.from({ length: 48 }, (_, h) => ({ at: NOW - 47 * 3_600_000 + h * 3_600_000 - 60_000, up: h % 12 !== 0 })), { name: 'API' });
  await seedRuns(f.opened, 'm2', [{ at: NOW - 60_000, up: false }], { name: 'Website' });
  await f.opened.statusPages.upsertPage({ slug: 'acme', title: 'Acme status', description: 'Public services', showTargets: false, groups: [{ name: 'Core', monitorIds: ['m1', 'm2'] }] }, NOW);
  await f.calendar.reload();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, headless: true });
});
afterAll(async () => {
  await browser?.close();
  await f?.close();
});

describe('status page in Chromium', () => {
  it('renders state, groups and bars with JavaScript disabled', async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 900, height: 1200 } });
    const page = await ctx.newPage();
    const res = await page.goto(`${f.url}/status/acme`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe('Acme status');
    expect(await page.locator('#overall').innerText()).toBe('Partial outage');
    expect(await page.locator('.mon').count()).toBe(2);
    // One segment per run of days that read the same, as wide as its days: 90 days in all.
    const days = await page.locator('.mon[data-monitor="m1"] .bar span').evaluateAll((xs) => xs.map((x) => Number(x.getAttribute('data-days'))));
    expect(days.reduce((a, b) => a + b, 0)).toBe(90);
    expect(await page.locator('.mon[data-monitor="m2"] .st-down').innerText()).toBe('Down');
    // The bar is laid out: segments side by side across the section, each as wide as its days.
    const box = await page.locator('.mon[data-monitor="m1"] .bar').boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    expect(box!.height).toBe(28);
    const last = await page.locator('.mon[data-monitor="m1"] .bar span').last().boundingBox();
    expect(last!.width).toBeGreaterThan(3);
    expect(await page.locator('.mon[data-monitor="m1"] .bar span').last().getAttribute('class')).toBe('b-bad');
    const first = await page.locator('.mon[data-monitor="m1"] .bar span').first().boundingBox();
    // A run of n days is n day-widths wide (within a pixel per gap).
    expect(Math.abs(first!.width - days[0]! * last!.width)).toBeLessThan(days[0]!);
    await ctx.close();
  });

  it('badges parse as SVG in the browser XML parser and render at their declared size', async () => {
    const page = await browser.newPage();
    await page.goto(`${f.url}/status/acme`);
    for (const kind of ['status', 'uptime-24h', 'uptime-7d', 'uptime-30d', 'p95']) {
      const svg = await (await fetch(`${f.url}/badge/m1/${kind}.svg`)).text();
      const parsed = await page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
        const err = doc.getElementsByTagName('parsererror')[0];
        return { error: err ? err.textContent : null, root: doc.documentElement.nodeName, width: doc.documentElement.getAttribute('width') };
      }, svg);
      expect(parsed, kind).toMatchObject({ error: null, root: 'svg' });
      await page.setContent(`<img id="b" src="${f.url}/badge/m1/${kind}.svg">`);
      await page.waitForFunction(() => (document.getElementById('b') as HTMLImageElement).complete);
      const size = await page.evaluate(() => {
        const img = document.getElementById('b') as HTMLImageElement;
        return { w: img.naturalWidth, h: img.naturalHeight };
      });
      expect(size, kind).toEqual({ w: Number(parsed.width), h: 20 });
    }
    await page.close();
  });
});
