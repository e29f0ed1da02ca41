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
import { PeriodicTask, type Gate } from '../platform/periodic.js';
import { backgroundTimers, type Timers } from '../platform/timers.js';

const CALENDAR_RELOAD_MS = 10_000;
const RETENTION_INTERVAL_MS = 3_600_000;
const DAY_MS = 86_400_000;

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
  /**
   * Retention on the leader (hourly): one-off windows ended `maintenance_retention_days` ago and notice claims that
   * old are deleted; null when not leading.
   */
  retention: PeriodicTask<{ windows: number; notices: number }>;
  /** Stops the loops (waiting for a pass in progress) and the mailer. */
  close(): Promise<void>;
}

export interface StartStatusPagesOptions {
  config: ServerConfig;
  store: OpenedStore;
  logger: Logger;
  now: () => number;
  /** Timers of the calendar/notice loop (tests: fake timers); default background timers. */
  timers?: Timers;
  /** Who sends notices and runs retention (default the store's leader elector). */
  leader?: Gate;
}

export async function startStatusPages(o: StartStatusPagesOptions): Promise<StatusPagesPlane> {
  const calendar = new MaintenanceCalendarCache(o.store.statusPages);
  await calendar.reload();
  const c = o.config;
  const mailer =
    c.smtp_host === ''
      ? null
      : createSmtpMailer({ host: c.smtp_host, port: c.smtp_port, secure: c.smtp_secure, user: c.smtp_user, pass: c.smtp_pass, from: c.smtp_from });
  const leader = o.leader ?? o.store.leader;
  // Every replica reloads its calendar (alerting reads it); the leader alone mails the notices.
  const notices = new PeriodicTask(
    async () => {
      if (mailer === null) return 0;
      const sent = await sendMaintenanceNotices({ store: o.store.statusPages, mailer, publicUrl: deps.publicUrl, calendar: calendar.calendar }, o.now());
      if (sent > 0) o.logger.info({ sent }, 'maintenance notices mailed to subscribers');
      return sent;
    },
    { gate: leader },
  );
  const loop = new PeriodicTask(
    async () => {
      await calendar.reload();
      await notices.run();
    },
    { onError: (err) => o.logger.error({ err }, 'maintenance calendar reload or notices failed') },
  );
  loop.start(CALENDAR_RELOAD_MS, o.timers ?? backgroundTimers);
  let retentionDays = c.maintenance_retention_days;
  const retention = new PeriodicTask(
    async () => {
      if (retentionDays <= 0) return { windows: 0, notices: 0 };
      const before = o.now() - retentionDays * DAY_MS;
      let windows = 0;
      for (const w of await o.store.statusPages.listWindows()) {
        if (w.schedule.kind === 'once' && w.schedule.endsAt < before && (await o.store.statusPages.deleteWindow(w.id))) windows++;
      }
      const notices = await o.store.statusPages.deleteNoticesBefore(before);
      if (windows > 0) await calendar.reload();
      if (windows + notices > 0) o.logger.info({ windows, notices }, 'maintenance retention: ended windows and old notices deleted');
      return { windows, notices };
    },
    { gate: leader, onError: (err) => o.logger.error({ err }, 'maintenance retention failed') },
  );
  retention.start(RETENTION_INTERVAL_MS, o.timers ?? backgroundTimers);
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
    retention,
    async applyConfig(next) {
      retentionDays = next.maintenance_retention_days;
      deps.cacheSeconds = next.status_page_cache_seconds;
      deps.excludeMaintenance = next.status_uptime_excludes_maintenance;
      const out = await applyConfigStatusPages({ statusPages: o.store.statusPages, monitoring: o.store.monitoring, now: o.now() }, next.status_pages, next.maintenance);
      if (out.pages.length + out.windows.length > 0) o.logger.info({ pages: out.pages, windows: out.windows }, 'server.yml status pages and maintenance windows applied');
      await calendar.reload();
    },
    setPublicUrl: (url) => {
      deps.publicUrl = url.replace(/\/$/, '');
    },
    async close() {
      await retention.stop();
      await loop.stop();
      mailer?.close();
    },
  };
}
