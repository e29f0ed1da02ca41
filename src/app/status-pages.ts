/**
 * Composition of the public status pages and badges (monitoring/status-pages) for the web port: the maintenance
 * calendar (loaded from the store, reloaded every 10 s and consulted by alerting), incidents from the alerts
 * store, subscriber mail over the configured SMTP server, and the maintenance start/end notices, sent by the leader
 * (each notice is also claimed once in the store, so a leader change never mails twice).
 */
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server.js';
import { incidentReader } from '../monitoring/alerts/contract.js';
import { MaintenanceCalendarCache } from '../monitoring/maintenance/calendar.js';
import { createSmtpMailer } from '../monitoring/status-pages/mailer.js';
import { sendMaintenanceNotices } from '../monitoring/status-pages/subscribers.js';
import { createStatusPageRoutes } from '../monitoring/status-pages/routes.js';
import { applyConfigStatusPages } from '../monitoring/status-pages/config-apply.js';
import type { WebRouteLike } from '../monitoring/status-pages/web-route.js';
import type { OpenedStore } from '../store/index.js';

const CALENDAR_RELOAD_MS = 10_000;

export interface StatusPagesPlane {
  calendar: MaintenanceCalendarCache;
  routes: WebRouteLike[];
  /**
   * Upserts the server.yml `status_pages:` and `maintenance:` entries (after the config monitors exist, so that
   * they resolve by name) and reloads the calendar; on reload also takes the new cache period and uptime rule.
   */
  applyConfig(config: ServerConfig): Promise<void>;
  /** Sets the base URL used in mail and feed links once the web port is listening. */
  setPublicUrl(url: string): void;
  close(): void;
}

export async function startStatusPages(o: { config: ServerConfig; store: OpenedStore; logger: Logger; now: () => number }): Promise<StatusPagesPlane> {
  const calendar = new MaintenanceCalendarCache(o.store.statusPages);
  await calendar.reload();
  const c = o.config;
  const mailer =
    c.smtp_host === ''
      ? null
      : createSmtpMailer({ host: c.smtp_host, port: c.smtp_port, secure: c.smtp_secure, user: c.smtp_user, pass: c.smtp_pass, from: c.smtp_from });
  let busy = false;
  const tick = async (): Promise<void> => {
    const loaded = await calendar.reload();
    if (mailer === null || !o.store.leader.isLeader()) return;
    const sent = await sendMaintenanceNotices({ store: o.store.statusPages, mailer, publicUrl: deps.publicUrl, calendar: loaded }, o.now());
    if (sent > 0) o.logger.info({ sent }, 'maintenance notices mailed to subscribers');
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    tick()
      .catch((err: unknown) => o.logger.error({ err }, 'maintenance calendar reload or notices failed'))
      .finally(() => (busy = false));
  }, CALENDAR_RELOAD_MS);
  timer.unref();
  const deps = {
    statusPages: o.store.statusPages,
    monitoring: o.store.monitoring,
    incidents: incidentReader(o.store.alerts),
    calendar,
    mailer,
    publicUrl: '',
    cacheSeconds: c.status_page_cache_seconds,
    excludeMaintenance: c.status_uptime_excludes_maintenance,
    now: o.now,
  };
  return {
    calendar,
    routes: createStatusPageRoutes(deps),
    async applyConfig(next) {
      deps.cacheSeconds = next.status_page_cache_seconds;
      deps.excludeMaintenance = next.status_uptime_excludes_maintenance;
      const out = await applyConfigStatusPages({ statusPages: o.store.statusPages, monitoring: o.store.monitoring, now: o.now() }, next.status_pages, next.maintenance);
      if (out.pages.length + out.windows.length > 0) o.logger.info({ pages: out.pages, windows: out.windows }, 'server.yml status pages and maintenance windows applied');
      await calendar.reload();
    },
    setPublicUrl: (url) => {
      deps.publicUrl = url.replace(/\/$/, '');
    },
    close: () => {
      clearInterval(timer);
      mailer?.close();
    },
  };
}
