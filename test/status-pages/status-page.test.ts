/** A status page over a real SQLite store, served over real HTTP: view, privacy, caching, feed and badges. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StatusPageView } from '../../src/monitoring/status-pages/view.js';
import { checkWellFormedXml } from '../support/xml-check.js';
import { seedRuns, startFixture, type Fixture } from './fixture.js';

const H = 3_600_000;
const D = 24 * H;
const NOW = Date.UTC(2026, 5, 15, 12, 30);
const TODAY = Date.UTC(2026, 5, 15);
const YESTERDAY = TODAY - D;

let f: Fixture;
beforeEach(async () => {
  f = await startFixture({ now: () => NOW });
  const secret = { url: 'http://secret.internal:8443/health', headers: { Authorization: 'Bearer hunter2' }, assertions: ['status == 200'] };
  // m1: one run an hour yesterday, down from 02:00 to 07:59 (6 of 24), up this morning.
  await seedRuns(f.opened, 'm1', [
    ...Array.from({ length: 24 }, (_, h) => ({ at: YESTERDAY + h * H + 60_000, up: h < 2 || h >= 8, ms: 40 + h })),
    ...Array.from({ length: 12 }, (_, h) => ({ at: TODAY + h * H + 60_000, up: true, ms: 100 })),
  ], { ...secret, name: 'Public API' });
  await seedRuns(f.opened, 'm2', [{ at: NOW - 60_000, up: false }], { ...secret, name: 'Website' });
  await seedRuns(f.opened, 'm3', [{ at: NOW - 60_000, up: true }], { ...secret, name: 'Billing' });
  await seedRuns(f.opened, 'hidden', [{ at: NOW - 60_000, up: true }], { name: 'Internal only' });
  const sp = f.opened.statusPages;
  await sp.upsertPage({ slug: 'acme', title: 'Acme <Status>', description: 'Our services', showTargets: false, groups: [{ name: 'Core', monitorIds: ['m1', 'm2'] }, { name: 'Billing', monitorIds: ['m3', 'gone'] }] }, NOW);
  // Yesterday's outage hours were planned maintenance; Billing is in maintenance right now (group target).
  await sp.createWindow({ title: 'DB upgrade', description: 'Primary swap', schedule: { kind: 'once', startsAt: YESTERDAY + 2 * H, endsAt: YESTERDAY + 8 * H }, targets: { monitorIds: ['m1'], groups: [], statusPages: [] } }, { id: 'w1', now: NOW });
  await sp.createWindow({ title: 'Billing move', description: '', schedule: { kind: 'weekly', weekdays: [1], start: '14:00', durationMs: 2 * H, timezone: 'Europe/Amsterdam' }, targets: { monitorIds: [], groups: ['Billing'], statusPages: [] } }, { id: 'w2', now: NOW });
  await f.calendar.reload();
  f.incidents.items.push(
    { id: 'i1', title: 'Website errors', status: 'identified', impact: 'minor', monitorIds: ['m2'], startedAt: NOW - H, resolvedAt: null, updates: [{ at: NOW - H, status: 'investigating', message: 'Looking into 500s' }, { at: NOW - 30 * 60_000, status: 'identified', message: 'Bad deploy & rollback' }] },
    { id: 'i0', title: 'Old outage', status: 'resolved', impact: 'major', monitorIds: ['m1'], startedAt: NOW - 10 * D, resolvedAt: NOW - 10 * D + H, updates: [{ at: NOW - 10 * D + H, status: 'resolved', message: 'Fixed' }] },
    { id: 'ix', title: 'Elsewhere', status: 'investigating', impact: 'critical', monitorIds: ['hidden'], startedAt: NOW - H, resolvedAt: null, updates: [] },
  );
});
afterEach(async () => {
  await f.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${f.url}${path}`, { headers });

describe('status page', () => {
  it('JSON: groups, current state, 90 daily bars, maintenance excluded from uptime, incidents of its monitors only', async () => {
    const res = await get('/status/acme.json');
    expect(res.status).toBe(200);
    const v = (await res.json()) as StatusPageView;
    expect(v.overall).toBe('partial_outage');
    expect(v.groups.map((g) => [g.name, g.monitors.map((m) => [m.id, m.status])])).toEqual([
      ['Core', [['m1', 'up'], ['m2', 'down']]],
      ['Billing', [['m3', 'maintenance']]],
    ]);
    const m1 = v.groups[0]!.monitors[0]!;
    expect(m1.days).toHaveLength(90);
    expect(m1.days.at(-1)).toEqual({ date: '2026-06-15', uptimePct: 100, maintenance: false });
    // The six down hours lay inside the window: excluded, the day counts 18 of 18 runs.
    expect(m1.days.at(-2)).toEqual({ date: '2026-06-14', uptimePct: 100, maintenance: true });
    expect(m1.days[0]).toEqual({ date: '2026-03-18', uptimePct: null, maintenance: false });
    expect(v.activeIncidents.map((i) => i.id)).toEqual(['i1']);
    expect(v.pastIncidents.map((i) => i.id)).toEqual(['i0']);
    expect(v.maintenance.active.map((m) => m.id)).toEqual(['w2']);
    expect(v.maintenance.past.map((m) => m.id)).toContain('w1');
    expect(v.maintenance.upcoming[0]).toMatchObject({ id: 'w2', startsAt: Date.UTC(2026, 5, 22, 12) });
  });

  it('counts maintenance in uptime when exclusion is off', async () => {
    await f.close();
    f = await startFixture({ now: () => NOW, excludeMaintenance: false });
    await seedRuns(f.opened, 'm1', Array.from({ length: 4 }, (_, h) => ({ at: YESTERDAY + h * H, up: h !== 0 })));
    await f.opened.statusPages.upsertPage({ slug: 'p', title: 'P', description: '', showTargets: false, groups: [{ name: 'G', monitorIds: ['m1'] }] }, NOW);
    await f.opened.statusPages.createWindow({ title: 'x', description: '', schedule: { kind: 'once', startsAt: YESTERDAY, endsAt: YESTERDAY + H }, targets: { monitorIds: ['m1'], groups: [], statusPages: [] } }, { id: 'w', now: NOW });
    await f.calendar.reload();
    const v = (await (await get('/status/p.json')).json()) as StatusPageView;
    expect(v.groups[0]!.monitors[0]!.days.at(-2)).toEqual({ date: '2026-06-14', uptimePct: 75, maintenance: true });
  });

  it('shows nothing private: no URLs, headers or assertions, unless the page opts into targets', async () => {
    for (const path of ['/status/acme', '/status/acme.json', '/status/acme/feed.atom']) {
      const body = await (await get(path)).text();
      for (const secret of ['secret.internal', 'hunter2', 'Authorization', 'status == 200', 'Internal only', 'Elsewhere']) expect(body, `${path} shows ${secret}`).not.toContain(secret);
    }
    const page = (await f.opened.statusPages.getPage('acme'))!;
    await f.opened.statusPages.upsertPage({ ...page, showTargets: true }, NOW);
    expect(await (await get('/status/acme')).text()).toContain('http://secret.internal:8443/health');
    expect(await (await get('/status/acme')).text()).not.toContain('hunter2');
  });

  it('HTML escapes page text and renders state, bars, incidents and maintenance without script', async () => {
    const res = await get('/status/acme');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<title>Acme &lt;Status&gt;</title>');
    expect(html).not.toContain('<Status>');
    expect(html).not.toContain('<script');
    expect(html).toContain('data-state="partial_outage"');
    expect(html).toContain('Bad deploy &amp; rollback');
    expect(html).toContain('Maintenance: Billing move');
    expect(html.match(/class="bar"/g)).toHaveLength(3);
    expect(html).not.toContain('name="email"'); // no mailer: no subscribe form
  });

  it('HTML bars: days that read the same are one segment as wide as its days, losslessly (the JSON days, re-encoded)', async () => {
    const html = await (await get('/status/acme')).text();
    const v = (await (await get('/status/acme.json')).json()) as StatusPageView;
    const bar = /<div class="mon" data-monitor="m1">.*?<div class="bar"[^>]*>(.*?)<\/div>/.exec(html)![1]!;
    const segments = [...bar.matchAll(/<span(?: class="([^"]*)")? data-days="(\d+)" title="([^"]*)"><\/span>/g)].map((x) => ({ cls: x[1] ?? '', days: Number(x[2]), title: x[3]! }));
    expect(segments.reduce((n, x) => n + x.days, 0)).toBe(90);
    // Expanding the segments gives back every day's text, in order.
    const text = (d: { uptimePct: number | null; maintenance: boolean }) => `${d.uptimePct === null ? 'no data' : `${d.uptimePct}%`}${d.maintenance ? ', maintenance' : ''}`;
    expect(segments.flatMap((x) => Array.from({ length: x.days }, () => x.title.slice(x.title.lastIndexOf(': ') + 2)))).toEqual(v.groups[0]!.monitors[0]!.days.map(text));
    expect(segments.length).toBeLessThan(10);
    expect(segments[0]).toMatchObject({ cls: expect.stringMatching(/^w\d+$/), title: expect.stringMatching(/^2026-03-18 – 2026-06-\d\d: no data$/) });
    expect(segments.at(-1)).toEqual({ cls: 'b-ok', days: 1, title: '2026-06-15: 100%' });
    // Each run length used has its width rule in the one stylesheet.
    for (const x of segments.filter((s) => s.days > 1)) expect(html).toContain(`.bar .w${x.days}{flex:${x.days}}`);
  });

  it('caching: ETag and Cache-Control; a matching If-None-Match gets 304; a change gets a new ETag', async () => {
    for (const path of ['/status/acme', '/status/acme.json', '/status/acme/feed.atom', '/badge/m1/status.svg']) {
      const a = await get(path);
      expect(a.headers.get('cache-control')).toBe('public, max-age=30');
      const etag = a.headers.get('etag')!;
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      const b = await get(path, { 'if-none-match': etag });
      expect(b.status, path).toBe(304);
      expect(await b.text()).toBe('');
      expect((await get(path, { 'if-none-match': '"other"' })).status).toBe(200);
    }
    const before = (await get('/status/acme.json')).headers.get('etag');
    await seedRuns(f.opened, 'm2', [{ at: NOW - 30_000, up: true }]);
    expect((await get('/status/acme.json')).headers.get('etag')).not.toBe(before);
  });

  it('Atom feed is well-formed XML with incidents and maintenance, newest first', async () => {
    const res = await get('/status/acme/feed.atom');
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const xml = await res.text();
    const { root, elements } = checkWellFormedXml(xml);
    expect(root).toBe('feed');
    expect(elements.filter((e) => e === 'entry').length).toBeGreaterThanOrEqual(4);
    expect(xml).toContain('[identified] Website errors');
    expect(xml.indexOf('Website errors')).toBeLessThan(xml.indexOf('Old outage'));
    expect(xml).toContain('[maintenance] DB upgrade');
  });

  it('unknown pages, bad slugs and wrong methods are refused clearly', async () => {
    expect((await get('/status/nope')).status).toBe(404);
    const j = await get('/status/nope.json');
    expect(j.status).toBe(404);
    expect(await j.json()).toEqual({ error: 'status page nope not found' });
    expect((await get('/status/..%2F..%2Fetc')).status).toBe(404);
    const post = await fetch(`${f.url}/status/acme.json`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(await post.json()).toEqual({ error: 'method not allowed: use GET' });
    const sub = await fetch(`${f.url}/status/acme/subscribe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"a@b.example"}' });
    expect(sub.status).toBe(503);
    expect((await sub.json()).error).toMatch(/no SMTP configured/);
    expect((await get('/other')).status).toBe(404); // not ours: falls through
  });
});

describe('badges', () => {
  it('are well-formed SVG with the right values and colours', async () => {
    const cases: Array<[string, string, string]> = [
      ['/badge/m1/status.svg', 'status: up', '#4c1'],
      ['/badge/m2/status.svg', 'status: down', '#e05d44'],
      ['/badge/m3/status.svg', 'status: maintenance', '#007ec6'],
      ['/badge/m1/uptime-24h.svg', 'uptime 24h: 100%', '#4c1'],
      ['/badge/m1/uptime-7d.svg', 'uptime 7d: 100%', '#4c1'],
      ['/badge/m1/uptime-30d.svg', 'uptime 30d: 100%', '#4c1'],
      ['/badge/m2/uptime-24h.svg', 'uptime 24h: 0%', '#e05d44'],
      ['/badge/m1/p95.svg', 'p95 24h: ', '#4c1'],
    ];
    for (const [path, label, color] of cases) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
      const svg = await res.text();
      expect(checkWellFormedXml(svg).root).toBe('svg');
      expect(svg, path).toContain(`aria-label="${label}`);
      expect(svg, path).toContain(`fill="${color}"`);
    }
    // p95 over the last 24 h: yesterday's afternoon runs (58–63 ms) and today's (100 ms); within the sketch's 1 %.
    const p95 = /p95 24h: (\d+) ms/.exec(await (await get('/badge/m1/p95.svg')).text())!;
    expect(Number(p95[1])).toBeGreaterThanOrEqual(99);
    expect(Number(p95[1])).toBeLessThanOrEqual(101);
  });

  it('uptime counts maintenance-free hours only', async () => {
    // The 7-day badge covers yesterday: 6 down runs, all in the window, so 100%; without exclusion it would be 6/36 down.
    expect(await (await get('/badge/m1/uptime-7d.svg')).text()).toContain('uptime 7d: 100%');
  });

  it('exist only for monitors on a status page; unknown kinds fall through', async () => {
    for (const path of ['/badge/hidden/status.svg', '/badge/nope/uptime-24h.svg']) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(checkWellFormedXml(await res.text()).root).toBe('svg');
    }
    expect((await get('/badge/m1/uptime-1y.svg')).status).toBe(404);
  });
});
