/**
 * Public status-page and badge routes (web contract): GET /status/<slug> (HTML), /status/<slug>.json,
 * /status/<slug>/feed.atom, POST /status/<slug>/subscribe, GET /status/<slug>/confirm?token=…,
 * GET /status/<slug>/unsubscribe?token=…, GET /badge/<monitorId>/{status,uptime-24h,uptime-7d,uptime-30d,p95}.svg.
 * No login; every GET answer carries an ETag and Cache-Control, and a matching If-None-Match gets 304.
 * Badges exist only for monitors shown on at least one status page, so a badge never reveals a private monitor.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MonitoringStore } from '../../store/monitoring.js';
import type { StatusPagesStore } from '../../store/status-pages.js';
import { LatencySketch } from '../domain/sketch.js';
import type { MaintenanceCalendarCache } from '../maintenance/calendar.js';
import { renderAtomFeed } from './atom.js';
import { formatPct, latencyColor, renderBadge, uptimeColor, type BadgeColor } from './badges.js';
import { renderMessagePage, renderStatusPageHtml } from './html.js';
import type { IncidentReader } from './incidents.js';
import type { Mailer } from './mailer.js';
import { emailError, subscribe } from './subscribers.js';
import { buildStatusPageView } from './view.js';
import type { WebRouteLike } from './web-route.js';

export interface StatusRoutesDeps {
  statusPages: StatusPagesStore;
  monitoring: MonitoringStore;
  incidents: IncidentReader;
  calendar: MaintenanceCalendarCache;
  /** Null: no SMTP configured, the subscribe form is hidden and sign-ups answer 503. */
  mailer: Mailer | null;
  /** Base URL of the public listener, for links in mail and the feed (no trailing slash). */
  publicUrl: string;
  /** Cache-Control max-age of pages, feeds and badges (status_page_cache_seconds). */
  cacheSeconds: number;
  excludeMaintenance: boolean;
  now?: () => number;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MAX_BODY = 4096;

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string, cacheSeconds: number | null): void {
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  const headers: Record<string, string> = { 'content-type': type, 'x-content-type-options': 'nosniff' };
  if (cacheSeconds !== null && status === 200) {
    headers['cache-control'] = `public, max-age=${cacheSeconds}`;
    headers.etag = etag;
    const inm = req.headers['if-none-match'];
    if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
      res.writeHead(304, { etag, 'cache-control': headers['cache-control'] }).end();
      return;
    }
  } else {
    headers['cache-control'] = 'no-store';
  }
  res.writeHead(status, headers).end(req.method === 'HEAD' ? undefined : body);
}

const json = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown) =>
  send(req, res, status, 'application/json; charset=utf-8', JSON.stringify(body), null);

async function readBody(req: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) return null;
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The monitor ids on any status page (badges are limited to these). */
async function publicMonitorIds(store: StatusPagesStore): Promise<Set<string>> {
  const out = new Set<string>();
  for (const p of await store.listPages()) for (const g of p.groups) for (const id of g.monitorIds) out.add(id);
  return out;
}

async function badge(deps: StatusRoutesDeps, id: string, kind: string, now: number): Promise<{ label: string; value: string; color: BadgeColor } | null> {
  const m = await deps.monitoring.getMonitor(id);
  if (!m || m.deleted_at !== null) return null;
  if (kind === 'status') {
    const maint = deps.calendar.activeFor(id, now);
    if (maint) return { label: 'status', value: 'maintenance', color: 'blue' };
    const [last] = await deps.monitoring.listResults({ monitorId: id, limit: 1 });
    if (!last || last.status === 'expired') return { label: 'status', value: 'unknown', color: 'grey' };
    return last.status === 'up' ? { label: 'status', value: 'up', color: 'green' } : { label: 'status', value: 'down', color: 'red' };
  }
  const span = kind === 'uptime-24h' || kind === 'p95' ? DAY : kind === 'uptime-7d' ? 7 * DAY : kind === 'uptime-30d' ? 30 * DAY : 0;
  if (span === 0) return null;
  const to = Math.floor(now / HOUR) * HOUR + HOUR;
  const from = to - span;
  const rows = await deps.monitoring.queryRollups({ monitorId: id, resolution: '1h', from, to });
  const maint = deps.excludeMaintenance ? deps.calendar.calendar.intervalsFor(id, from, to) : [];
  const counted = rows.filter((r) => !maint.some((o) => o.start <= r.bucket_start && r.bucket_start + HOUR <= o.end));
  if (kind === 'p95') {
    const sk = new LatencySketch();
    for (const r of counted) if (r.lat_count > 0) sk.merge(LatencySketch.decode(r.sketch));
    const q = sk.quantile(0.95);
    return { label: 'p95 24h', value: q === null ? 'no data' : `${Math.round(q)} ms`, color: latencyColor(q) };
  }
  let count = 0;
  let up = 0;
  for (const r of counted) {
    count += r.count;
    up += r.up_count;
  }
  const pct = count > 0 ? (100 * up) / count : null;
  return { label: `uptime ${kind.slice(7)}`, value: formatPct(pct), color: uptimeColor(pct) };
}

export function createStatusPageRoutes(deps: StatusRoutesDeps): WebRouteLike[] {
  const now = deps.now ?? Date.now;
  const route: WebRouteLike = async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const isGet = req.method === 'GET' || req.method === 'HEAD';

    const b = /^\/badge\/([^/]{1,200})\/(status|uptime-24h|uptime-7d|uptime-30d|p95)\.svg$/.exec(path);
    if (b) {
      if (!isGet) return json(req, res, 405, { error: 'method not allowed: use GET' }), true;
      const id = decodeURIComponent(b[1]!);
      const found = (await publicMonitorIds(deps.statusPages)).has(id) ? await badge(deps, id, b[2]!, now()) : null;
      if (!found) {
        send(req, res, 404, 'image/svg+xml; charset=utf-8', renderBadge('badge', 'not found', 'grey'), null);
        return true;
      }
      send(req, res, 200, 'image/svg+xml; charset=utf-8', renderBadge(found.label, found.value, found.color), deps.cacheSeconds);
      return true;
    }

    const s = /^\/status\/([^/.]+)(\.json|\/feed\.atom|\/subscribe|\/confirm|\/unsubscribe)?\/?$/.exec(path);
    if (!s) return false;
    const slug = decodeURIComponent(s[1]!);
    const what = s[2] ?? '';
    const page = SLUG.test(slug) ? await deps.statusPages.getPage(slug) : null;
    if (!page) {
      if (what === '.json') json(req, res, 404, { error: `status page ${slug} not found` });
      else send(req, res, 404, 'text/html; charset=utf-8', renderMessagePage('Not found', `There is no status page named ${slug}.`), null);
      return true;
    }

    if (what === '/subscribe') {
      if (req.method !== 'POST') return json(req, res, 405, { error: 'method not allowed: use POST' }), true;
      const wantsJson = (req.headers['content-type'] ?? '').includes('json');
      const answer = (status: number, msg: string) =>
        wantsJson ? json(req, res, status, status < 300 ? { status: msg } : { error: msg }) : send(req, res, status, 'text/html; charset=utf-8', renderMessagePage('Subscribe', msg), null);
      if (!deps.mailer) return answer(503, 'email updates are not available on this server (no SMTP configured)'), true;
      const raw = await readBody(req);
      if (raw === null) return answer(413, `body: expected at most ${MAX_BODY} bytes`), true;
      let email: unknown;
      if (wantsJson) {
        try {
          email = (JSON.parse(raw) as { email?: unknown }).email;
        } catch {
          return answer(400, 'body: expected JSON {"email": "…"}'), true;
        }
      } else email = new URLSearchParams(raw).get('email');
      const err = emailError(email);
      if (err) return answer(400, err), true;
      try {
        const r = await subscribe({ store: deps.statusPages, mailer: deps.mailer, publicUrl: deps.publicUrl, now }, page, email as string);
        answer(202, r === 'sent' ? 'check your inbox: we sent a link to confirm the subscription' : 'this address is already subscribed');
      } catch {
        answer(502, 'the confirmation email could not be sent; try again later');
      }
      return true;
    }

    if (!isGet) return json(req, res, 405, { error: 'method not allowed: use GET' }), true;

    if (what === '/confirm' || what === '/unsubscribe') {
      const token = url.searchParams.get('token') ?? '';
      if (what === '/confirm') {
        const sub = token ? await deps.statusPages.confirmSubscriber(token, now()) : null;
        const ok = sub !== null && sub.slug === page.slug;
        send(req, res, ok ? 200 : 404, 'text/html; charset=utf-8', renderMessagePage(page.title, ok ? 'Subscription confirmed: you will get updates by email.' : 'This confirmation link is not valid (or the subscription was removed).'), null);
      } else {
        const ok = token !== '' && (await deps.statusPages.removeSubscriber(token));
        send(req, res, ok ? 200 : 404, 'text/html; charset=utf-8', renderMessagePage(page.title, ok ? 'You are unsubscribed.' : 'This unsubscribe link is not valid (or already used).'), null);
      }
      return true;
    }

    const view = await buildStatusPageView(
      { statusPages: deps.statusPages, incidents: deps.incidents, calendar: deps.calendar.calendar, excludeMaintenance: deps.excludeMaintenance },
      page,
      now(),
      { bars: what !== '/feed.atom' },
    );
    // The ETag must follow the content, so the generation time shown is rounded down to the cache period
    // (otherwise every answer would differ by its millisecond and no revalidation could ever match).
    const period = Math.max(1, deps.cacheSeconds) * 1000;
    view.generatedAt = Math.floor(view.generatedAt / period) * period;
    if (what === '.json') send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(view), deps.cacheSeconds);
    else if (what === '/feed.atom') send(req, res, 200, 'application/atom+xml; charset=utf-8', renderAtomFeed(view, deps.publicUrl), deps.cacheSeconds);
    else send(req, res, 200, 'text/html; charset=utf-8', renderStatusPageHtml(view, { subscribe: deps.mailer !== null }), deps.cacheSeconds);
    return true;
  };
  return [route];
}
