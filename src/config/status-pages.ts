/**
 * The server.yml keys of status pages and maintenance windows (spread into SERVER_FIELDS): pages and windows as
 * code (`status_pages:`, `maintenance:`, Gatus-style), the public pages' cache period, whether maintenance is
 * left out of uptime, and how long maintenance notices are kept. Schedules are checked here with the window maths,
 * so a bad window stops the load with the field named (`maintenance[1].timezone: expected an IANA timezone …`).
 */
import { z } from 'zod';
import { parseDuration } from '../platform/duration.js';
import { scheduleError, type MaintenanceSchedule } from '../monitoring/maintenance/window-math.js';
import { SLUG_HINT, SLUG_RE } from '../store/status-pages.js';
import { bool, int, json, type FieldTable } from './fields.js';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const FULL_WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const weekdayOf = (d: string | number): number => (typeof d === 'number' ? d : Math.max(WEEKDAYS.indexOf(d.toLowerCase() as never), FULL_WEEKDAYS.indexOf(d.toLowerCase())));

const refs = (what: string) => z.array(z.string({ error: `expected a ${what}` }).trim().min(1, { error: `expected a ${what}` }), { error: `expected a list of ${what}s` }).default([]);

/** A page in server.yml; monitors are named by monitor name or id (resolved at start). */
export const ConfigStatusPageSchema = z
  .object({
    slug: z.string({ error: SLUG_HINT }).regex(SLUG_RE, { error: SLUG_HINT }),
    title: z.string({ error: 'expected a title' }).trim().min(1, { error: 'expected a title' }).max(200, { error: 'expected at most 200 characters' }),
    description: z.string({ error: 'expected a text' }).max(5000, { error: 'expected at most 5000 characters' }).default(''),
    show_targets: z.boolean({ error: 'expected true or false' }).default(false),
    groups: z
      .array(z.object({ name: z.string({ error: 'expected a group name' }).trim().min(1, { error: 'expected a group name' }), monitors: refs('monitor name or id') }).strict(), {
        error: 'expected a list of groups ({name, monitors})',
      })
      .max(100, { error: 'expected at most 100 groups' })
      .default([]),
  })
  .strict();
export type ConfigStatusPage = z.output<typeof ConfigStatusPageSchema>;

const time = z.union([z.string(), z.number()], { error: 'expected an ISO 8601 time such as 2026-12-24T02:00:00Z (or epoch ms)' });
const toMs = (v: string | number): number => (typeof v === 'number' ? v : Date.parse(v));

/**
 * A window in server.yml. `name` is its stable key (the stored id is `mw-config-<name>`); exactly one schedule:
 * `starts_at` + `ends_at` (one-off), `every` + `start` + `duration` (weekly), or `cron` + `duration`.
 */
const ConfigWindowObject = z
  .object({
    name: z.string({ error: SLUG_HINT }).regex(SLUG_RE, { error: SLUG_HINT }),
    title: z.string({ error: 'expected a title' }).trim().min(1, { error: 'expected a title' }).max(200, { error: 'expected at most 200 characters' }).optional(),
    description: z.string({ error: 'expected a text' }).max(5000, { error: 'expected at most 5000 characters' }).default(''),
    starts_at: time.optional(),
    ends_at: time.optional(),
    every: z.array(z.union([z.string(), z.number().int()]), { error: 'expected a list of weekdays such as [sun, wed]' }).optional(),
    start: z.string({ error: 'expected a local time "HH:MM"' }).optional(),
    cron: z.string({ error: 'expected a cron expression' }).optional(),
    duration: z.string({ error: 'expected a duration such as 2h or 30m' }).optional(),
    timezone: z.string({ error: 'expected an IANA timezone name such as Europe/Amsterdam' }).default('UTC'),
    monitors: refs('monitor name or id'),
    groups: refs('group name'),
    status_pages: z.array(z.string({ error: SLUG_HINT }).regex(SLUG_RE, { error: SLUG_HINT }), { error: 'expected a list of status page slugs' }).default([]),
  })
  .strict();

export const ConfigWindowSchema = ConfigWindowObject.transform((w, ctx) => {
  const fail = (path: string, message: string): typeof z.NEVER => {
    ctx.addIssue({ code: 'custom', path: [path], message: message.startsWith('expected') ? message : `expected ${message}` });
    return z.NEVER;
  };
  const kinds = [w.starts_at !== undefined || w.ends_at !== undefined, w.every !== undefined, w.cron !== undefined].filter(Boolean).length;
  if (kinds !== 1) return fail('starts_at', 'exactly one schedule: starts_at + ends_at, every + start + duration, or cron + duration');
  let durationMs = 0;
  if (w.starts_at === undefined && w.ends_at === undefined) {
    if (w.duration === undefined) return fail('duration', 'expected a duration such as 2h or 30m');
    try {
      durationMs = parseDuration(w.duration);
    } catch {
      return fail('duration', 'expected a duration such as 2h or 30m');
    }
  }
  let schedule: MaintenanceSchedule;
  if (w.every !== undefined) {
    const days = w.every.map(weekdayOf);
    if (days.length === 0 || days.some((d) => !(d >= 0 && d <= 6))) return fail('every', 'expected one or more of sun, mon, tue, wed, thu, fri, sat');
    if (w.start === undefined) return fail('start', 'expected a local time "HH:MM"');
    schedule = { kind: 'weekly', weekdays: [...new Set(days)].sort(), start: w.start, durationMs, timezone: w.timezone };
  } else if (w.cron !== undefined) {
    schedule = { kind: 'cron', expression: w.cron, durationMs, timezone: w.timezone };
  } else {
    const startsAt = w.starts_at === undefined ? NaN : toMs(w.starts_at);
    const endsAt = w.ends_at === undefined ? NaN : toMs(w.ends_at);
    if (!Number.isFinite(startsAt)) return fail('starts_at', 'expected an ISO 8601 time such as 2026-12-24T02:00:00Z (or epoch ms)');
    if (!Number.isFinite(endsAt)) return fail('ends_at', 'expected an ISO 8601 time such as 2026-12-24T04:00:00Z (or epoch ms)');
    schedule = { kind: 'once', startsAt, endsAt };
  }
  const bad = scheduleError(schedule);
  if (bad !== null) {
    const at = bad.indexOf(': ');
    const field = bad.slice(0, at);
    return fail(field === 'weekdays' ? 'every' : field === 'cron' ? 'cron' : field, bad.slice(at + 2));
  }
  if (w.monitors.length + w.groups.length + w.status_pages.length === 0) return fail('monitors', 'at least one of monitors, groups or status_pages');
  return { name: w.name, title: w.title ?? w.name, description: w.description, schedule, targets: { monitors: w.monitors, groups: w.groups, statusPages: w.status_pages } };
});
export type ConfigWindow = z.output<typeof ConfigWindowSchema>;

/** The nested keys of a status page and a window (for "did you mean" hints on unknown keys). */
export const STATUS_PAGE_ENTRY_KEYS = [...Object.keys(ConfigStatusPageSchema.shape), 'name', 'monitors'];
export const MAINTENANCE_ENTRY_KEYS = Object.keys(ConfigWindowObject.shape);

/** The stored id of a window declared in server.yml. */
export const configWindowId = (name: string): string => `mw-config-${name}`;

const unique = <T>(key: (t: T) => string, what: string) => (list: T[], ctx: z.RefinementCtx) => {
  const seen = new Set<string>();
  list.forEach((t, i) => {
    const k = key(t);
    if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [i], message: `expected each ${what} once, "${k}" is repeated` });
    seen.add(k);
  });
};

export const STATUS_PAGE_FIELDS = {
  status_pages: json(
    z.array(ConfigStatusPageSchema, { error: 'expected a list of status pages' }).superRefine(unique((p) => p.slug, 'slug')).default([]),
    [],
    'Vantage: status pages as code ({slug, title, description, show_targets, groups: [{name, monitors}]}), upserted by slug at start and on reload; see docs/status-pages.md.',
    [{ slug: 'public', title: 'Acme status', description: 'Live status of Acme services', groups: [{ name: 'API', monitors: ['checkout-api', 'search-api'] }, { name: 'Website', monitors: ['www'] }] }],
  ),
  maintenance: json(
    z.array(ConfigWindowSchema, { error: 'expected a list of maintenance windows' }).superRefine(unique((w) => w.name, 'window name')).default([]),
    [],
    'Vantage: maintenance windows as code ({name, title, starts_at/ends_at | every/start/duration | cron/duration, timezone, monitors, groups, status_pages}), upserted by name at start and on reload; see docs/status-pages.md.',
    [
      { name: 'db-upgrade', title: 'Database upgrade', starts_at: '2026-12-24T02:00:00Z', ends_at: '2026-12-24T04:00:00Z', monitors: ['checkout-api'] },
      { name: 'backups', title: 'Weekly backups', every: ['sun'], start: '02:00', duration: '2h', timezone: 'Europe/Amsterdam', groups: ['API'] },
      { name: 'nightly', cron: '0 3 * * *', duration: '30m', timezone: 'UTC', status_pages: ['public'] },
    ],
  ),
  status_page_cache_seconds: int(30, 'Vantage: Cache-Control max-age of status pages, their JSON/Atom and badges; the "updated" time is rounded down to it so unchanged pages keep their ETag.', { min: 0, max: 86_400 }),
  status_uptime_excludes_maintenance: bool(true, 'Vantage: leave maintenance time out of the uptime of status pages and badges (false = a run during maintenance counts like any other).'),
  maintenance_retention_days: int(90, 'Vantage: one-off maintenance windows that ended this many days ago, and the ledger of notices sent that long ago, are deleted (0 = kept forever); recurring windows are kept; the leader checks hourly.', { min: 0 }),
} satisfies FieldTable;
