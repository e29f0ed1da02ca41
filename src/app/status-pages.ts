/**
 * Composition of the public status pages and badges (monitoring/status-pages) for the web port: the maintenance
 * calendar (loaded from the store, reloaded every 30 s and consulted by alerting), incidents from the alerts
 * store, and subscriber mail over the configured SMTP server.
 */
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server.js';
import { incidentReader } from '../monitoring/alerts/contract.js';
import { MaintenanceCalendarCache } from '../monitoring/maintenance/calendar.js';
import { createSmtpMailer } from '../monitoring/status-pages/mailer.js';
import { createStatusPageRoutes } from '../monitoring/status-pages/routes.js';
import type { WebRouteLike } from '../monitoring/status-pages/web-route.js';
import type { OpenedStore } from '../store/index.js';

const CALENDAR_RELOAD_MS = 30_000;

export interface StatusPagesPlane {
  calendar: MaintenanceCalendarCache;
  routes: WebRouteLike[];
  /** Sets the base URL used in mail and feed links once the web port is listening. */
  setPublicUrl(url: string): void;
  close(): void;
}

export async function startStatusPages(o: { config: ServerConfig; store: OpenedStore; logger: Logger; now: () => number }): Promise<StatusPagesPlane> {
  const calendar = new MaintenanceCalendarCache(o.store.statusPages);
  await calendar.reload();
  const timer = setInterval(() => {
    calendar.reload().catch((err: unknown) => o.logger.error({ err }, 'maintenance calendar reload failed'));
  }, CALENDAR_RELOAD_MS);
  timer.unref();
  const c = o.config;
  const mailer =
    c.smtp_host === ''
      ? null
      : createSmtpMailer({ host: c.smtp_host, port: c.smtp_port, secure: c.smtp_secure, user: c.smtp_user, pass: c.smtp_pass, from: c.smtp_from });
  const deps = {
    statusPages: o.store.statusPages,
    monitoring: o.store.monitoring,
    incidents: incidentReader(o.store.alerts),
    calendar,
    mailer,
    publicUrl: '',
    cacheSeconds: 30,
    excludeMaintenance: true,
    now: o.now,
  };
  return {
    calendar,
    routes: createStatusPageRoutes(deps),
    setPublicUrl: (url) => {
      deps.publicUrl = url.replace(/\/$/, '');
    },
    close: () => {
      clearInterval(timer);
      mailer?.close();
    },
  };
}
