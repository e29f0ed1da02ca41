/**
 * Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core (Playwright's own
 * browser download cannot work here), headless, a fresh profile per launch and a new context per test. Pages record console errors and
 * uncaught exceptions; screenshots go to test/browser/screenshots/ (ignored by git).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  browser: Browser;
  /** A new context (its own cookies), accepting the web port's self-signed certificate. */
  context(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  // launch() gives Chromium a fresh temporary --user-data-dir of its own (it refuses one passed in args) and
  // deletes it on close; every test takes a new context on top (its own cookies and storage).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ARGS,
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    browser,
    context: () => browser.newContext({ ignoreHTTPSErrors: true }),
    close: async () => {
      await browser.close();
    },
  };
}

/** Console errors and page errors of a page, except the browser's own "Failed to load resource" lines for
 * answers the test expects (401 before sign-in, 403/429 on refused actions). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/Failed to load resource: the server responded with a status of (401|403|410|429)/.test(m.text())) return;
    errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
