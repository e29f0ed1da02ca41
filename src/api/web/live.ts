/**
 * The live stream `GET /api/live` (Server-Sent Events) as a web route: events `overview` (DashboardService
 * GetOverview's answer), `fleet` (FleetService ListBackends' answer), both in Connect's JSON form, and `result`
 * (one per stored check result), and `incidents` (`{"open": n, "atMs": t}`, sent when the newest incidents changed:
 * one opened, resolved, acknowledged or updated, on this replica or another, since they are read from the store).
 * Overview, fleet and incidents are computed once per tick for all clients, and only while someone listens; each
 * client gets overview and fleet at once on connecting. A client that does not read (its socket buffer
 * full) misses events until it drains instead of growing the server's memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { create, toJson } from '@bufbuild/protobuf';
import { GetOverviewResponseSchema } from '../../gen/vantage/v1/dashboard_pb.js';
import { ListBackendsResponseSchema } from '../../gen/vantage/v1/fleet_pb.js';
import type { Timers } from '../../platform/timers.js';
import type { DashboardStore } from '../../store/dashboard.js';
import type { StoredListener } from '../../monitoring/control/ingest.js';
import type { AlertsStore, IncidentRecord } from '../../store/alerts.js';
import { createOverviewCache, type OverviewCache } from './overview-cache.js';
import { fleetSnapshot, type FleetServiceDeps } from './fleet.js';

export const LIVE_PATH = '/api/live';

export interface LiveOptions {
  dashboard?: DashboardStore;
  engine?: FleetServiceDeps['engine'];
  /** The overview shared with DashboardService.GetOverview (overview-cache.ts); absent = one of its own. */
  overviewCache?: OverviewCache;
  now: () => number;
  timers: Timers;
  /** Adds a listener of stored results (MonitoringHandle.onStored); without it no `result` events. */
  onStored?: (l: StoredListener) => void;
  /** Where incidents are read (the alerts store); without it no `incidents` events. */
  incidents?: Pick<AlertsStore, 'listIncidents'>;
  /** Tick periods (defaults: overview 5 s, fleet 2 s, incidents 5 s, keep-alive comment 15 s). */
  overviewMs?: number;
  fleetMs?: number;
  incidentsMs?: number;
  keepAliveMs?: number;
  onError?: (err: unknown) => void;
}

/** How many of the newest incidents the `incidents` tick compares. */
const INCIDENTS_WATCHED = 200;

/** What the incident pages show changing: the set, each status, resolution, acknowledgement and timeline. */
export function incidentsFingerprint(list: readonly IncidentRecord[]): string {
  return list.map((i) => `${i.id}:${i.status}:${i.resolvedAt ?? ''}:${i.acknowledgedAt ?? ''}:${i.timeline.length}`).join('|');
}

interface Client {
  res: ServerResponse;
  blocked: boolean;
}

export interface LiveStream {
  /** The web route: handles GET /api/live (401 without a principal), false for every other path. */
  route(req: IncomingMessage, res: ServerResponse, principal: unknown): boolean;
  clients(): number;
  /** Ends every stream and stops the ticks. */
  close(): void;
}

export function createLiveStream(o: LiveOptions): LiveStream {
  const clients = new Set<Client>();
  const overviewMs = o.overviewMs ?? 5_000;
  const fleetMs = o.fleetMs ?? 2_000;
  const keepAliveMs = o.keepAliveMs ?? 15_000;
  const incidentsMs = o.incidentsMs ?? 5_000;
  const timers: unknown[] = [];
  let closed = false;

  const send = (c: Client, event: string, data: string): void => {
    if (c.blocked || c.res.writableEnded) return;
    if (!c.res.write(`event: ${event}\ndata: ${data}\n\n`)) {
      c.blocked = true;
      c.res.once('drain', () => (c.blocked = false));
    }
  };
  const broadcast = (event: string, data: string): void => {
    for (const c of clients) send(c, event, data);
  };

  const cache = o.overviewCache ?? (o.dashboard ? createOverviewCache({ dashboard: o.dashboard, now: o.now }) : null);
  const overviewJson = async (): Promise<string | null> => {
    if (cache === null) return null;
    const v = await cache.get(10);
    return JSON.stringify(toJson(GetOverviewResponseSchema, create(GetOverviewResponseSchema, v)));
  };
  const fleetJson = (): string | null => {
    if (!o.engine) return null;
    return JSON.stringify(toJson(ListBackendsResponseSchema, create(ListBackendsResponseSchema, fleetSnapshot({ engine: o.engine, now: o.now }))));
  };
  const report = (err: unknown) => o.onError?.(err);

  /** Runs `fn` every `ms` while the stream is open (skipped when nobody listens). */
  const every = (ms: number, fn: () => Promise<void> | void): void => {
    const slot = timers.length;
    const tick = () => {
      if (closed) return;
      const run = clients.size > 0 ? Promise.resolve().then(fn) : Promise.resolve();
      void run.catch(report).finally(() => {
        if (!closed) timers[slot] = o.timers.setTimeout(tick, ms);
      });
    };
    timers.push(o.timers.setTimeout(tick, ms));
  };
  every(overviewMs, async () => {
    const j = await overviewJson();
    if (j !== null) broadcast('overview', j);
  });
  every(fleetMs, () => {
    const j = fleetJson();
    if (j !== null) broadcast('fleet', j);
  });
  /** Takes the incidents' fingerprint without telling anyone (set when the incidents loop exists). */
  let primeIncidents: (() => void) | null = null;
  if (o.incidents) {
    const source = o.incidents;
    // The fingerprint is first taken when a stream opens (primeIncidents), not at the first tick: a change made
    // between a page's connect and that tick would otherwise become the baseline and never be sent.
    let last: string | null = null;
    let priming: Promise<void> | null = null;
    primeIncidents = () => {
      if (last !== null || priming !== null) return;
      priming = source
        .listIncidents({ limit: INCIDENTS_WATCHED })
        .then((list) => {
          last ??= incidentsFingerprint(list);
        })
        .catch(report)
        .finally(() => (priming = null));
    };
    every(incidentsMs, async () => {
      if (priming !== null) await priming;
      const list = await source.listIncidents({ limit: INCIDENTS_WATCHED });
      const fp = incidentsFingerprint(list);
      if (last !== null && fp !== last) broadcast('incidents', JSON.stringify({ open: list.filter((i) => i.resolvedAt === null).length, atMs: o.now() }));
      last = fp;
    });
  }
  every(keepAliveMs, () => {
    for (const c of clients) if (!c.blocked) c.res.write(': keep-alive\n\n');
  });

  o.onStored?.((job, r) => {
    if (clients.size === 0) return;
    broadcast(
      'result',
      JSON.stringify({
        monitorId: job.monitorId,
        region: job.region,
        runId: r.run_id,
        eventAtMs: r.event_at,
        status: r.status,
        httpCode: r.http_code,
        totalMs: r.total_ms,
        errorClass: r.error_class,
      }),
    );
  });

  return {
    route(req, res, principal) {
      const path = (req.url ?? '').split('?')[0];
      if (path !== LIVE_PATH) return false;
      if (req.method !== 'GET') {
        res.writeHead(405, { 'content-type': 'application/json', allow: 'GET' });
        res.end(JSON.stringify({ error: `${LIVE_PATH}: method ${req.method ?? ''} not allowed, expected GET` }));
        return true;
      }
      if (principal === null || principal === undefined) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not signed in' }));
        return true;
      }
      if (closed) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'server is stopping' }));
        return true;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 3000\n\n');
      const c: Client = { res, blocked: false };
      clients.add(c);
      primeIncidents?.();
      const drop = () => clients.delete(c);
      req.on('close', drop);
      res.on('close', drop);
      // The current figures at once, so a page does not wait a tick.
      const f = fleetJson();
      if (f !== null) send(c, 'fleet', f);
      void overviewJson()
        .then((j) => {
          if (j !== null && clients.has(c)) send(c, 'overview', j);
        })
        .catch(report);
      return true;
    },
    clients: () => clients.size,
    close() {
      closed = true;
      for (const t of timers) o.timers.clearTimeout(t);
      for (const c of clients) c.res.end();
      clients.clear();
    },
  };
}
