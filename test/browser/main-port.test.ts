/**
 * The dashboard under dashboard_path on the main port in a real browser: Chromium against a real `vantage
 * server` (built dist/cli and dist/web). The first admin is created through http://127.0.0.1:<main>/ui/setup,
 * the overview renders with every asset and API call under /ui/, the session cookie has Path=/ui/, navigation
 * keeps the /ui/ prefix, a deep link reloads into the app, and no page logs a console error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, watchErrors, type TestBrowser } from './support/browser.js';
import { startBrowserServer, type BrowserServer } from './support/server.js';

let server: BrowserServer;
let browser: TestBrowser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startBrowserServer({ withAgent: false }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the dashboard on the main port', () => {
  it('signs in through /ui/ and renders the overview; links and deep links stay under /ui/', async () => {
    expect(server.log()).toContain(`dashboard on the main port: ${server.main}/ui/`);
    const token = new URL(server.setupLink!).searchParams.get('token')!;
    const context = await browser.context();
    try {
      const page = await context.newPage();
      const errors = watchErrors(page);
      const requests: string[] = [];
      page.on('request', (r) => requests.push(new URL(r.url()).pathname));
      const failed: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400 && r.status() !== 401) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
      });

      await page.goto(`${server.main}/ui/setup?token=${token}`);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill('admin-password-1');
      await page.getByRole('button', { name: 'Create admin' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/ui/');
      await screenshot(page, 'main-port-overview');

      // Every asset and API call went under /ui/.
      expect(requests.length).toBeGreaterThan(3);
      expect(requests.filter((p) => !p.startsWith('/ui/'))).toEqual([]);
      expect(requests.some((p) => p.startsWith('/ui/assets/'))).toBe(true);
      expect(requests).toContain('/ui/api/auth/setup');
      expect(requests.some((p) => p.startsWith('/ui/vantage.v1.DashboardService/'))).toBe(true);

      const cookies = await context.cookies(`${server.main}/ui/`);
      // Path=/ui/: the browser does not send it to the main port's other (proxied) paths.
      expect((await context.cookies(`${server.main}/app/`)).map((c) => c.name)).not.toContain('vantage_session');
      const session = cookies.find((c) => c.name === 'vantage_session');
      expect(session?.path).toBe('/ui/');
      expect(session?.httpOnly).toBe(true);

      await page.getByRole('link', { name: 'Monitors' }).click();
      await page.getByRole('heading', { name: 'Monitors' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/ui/monitors');
      await page.reload();
      await page.getByRole('heading', { name: 'Monitors' }).waitFor();
      await page.goBack();
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      expect(failed).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
