/**
 * A status page over a real SQLite store, served on a plain node HTTP server on loopback through the public
 * routes (until the web listener lands they are WebRoute-shaped handlers; this server calls them in order).
 * Results enter through the store interface (jobs leased, results ingested, rollups folded), never SQL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { MaintenanceCalendarCache } from '../../src/monitoring/maintenance/calendar.js';
import { createStatusPageRoutes, type StatusRoutesDeps } from '../../src/monitoring/status-pages/routes.js';
import type { IncidentReader, IncidentView } from '../../src/monitoring/status-pages/incidents.js';
import { result, seedLeasedJobs } from '../store/contract/fixtures.js';

/** A small real IncidentReader over an in-memory list (the alerts component provides the real one). */
export class ListIncidents implements IncidentReader {
  readonly items: IncidentView[] = [];
  async list(q: { monitorIds?: string[]; since?: number; limit?: number }): Promise<IncidentView[]> {
    const ids = q.monitorIds ? new Set(q.monitorIds) : null;
    return this.items
      .filter((i) => (!ids || i.monitorIds.some((m) => ids.has(m))) && (q.since === undefined || (i.resolvedAt ?? Infinity) >= q.since))
      .slice(0, q.limit ?? 100);
  }
}

export interface Fixture {
  opened: OpenedStore;
  calendar: MaintenanceCalendarCache;
  incidents: ListIncidents;
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startFixture(over: Partial<StatusRoutesDeps> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-status-'));
  const opened = openSqliteStore(join(dir, 'vantage.db'));
  const calendar = new MaintenanceCalendarCache(opened.statusPages);
  const incidents = new ListIncidents();
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const routes = createStatusPageRoutes({
    statusPages: opened.statusPages,
    monitoring: opened.monitoring,
    incidents,
    calendar,
    mailer: null,
    publicUrl: url,
    cacheSeconds: 30,
    excludeMaintenance: true,
    ...over,
  });
  server.on('request', (req, res) => {
    void (async () => {
      for (const r of routes) if (await r(req, res, null)) return;
      res.writeHead(404).end();
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  return {
    opened,
    calendar,
    incidents,
    url,
    server,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let worker = 0;
/** Stores finished runs of a monitor (creating it when needed) and folds them into rollups. */
export async function seedRuns(opened: OpenedStore, monitorId: string, runs: Array<{ at: number; up: boolean; ms?: number }>, spec: Record<string, unknown> = {}): Promise<void> {
  const workerId = `w${++worker}`;
  const now = Math.max(...runs.map((r) => r.at));
  const ids = await seedLeasedJobs(opened.monitoring, { monitorId, runs: runs.map((r) => r.at), now, workerId, spec });
  const byAt = new Map(runs.map((r) => [r.at, r]));
  const jobs = await Promise.all(ids.map((id) => opened.monitoring.getJob(id)));
  await opened.monitoring.ingestResults(
    jobs.map((j) => {
      const r = byAt.get(j!.scheduled_at)!;
      return { workerId, result: result(j!.run_id, r.at, { status: r.up ? 'up' : 'down', total_ms: r.up ? (r.ms ?? 50) : null, http_code: r.up ? 200 : 500, error: r.up ? null : 'HTTP 500' }) };
    }),
    now,
  );
  while ((await opened.monitoring.rollupPending(10_000)) > 0);
}
