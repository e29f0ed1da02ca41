/**
 * `vantage status-page list|put|rm` and `vantage maintenance list|add|rm` against a running server's
 * StatusPagesService and MaintenanceService. Exit codes as `vantage monitor` (2 bad input, 4 not found).
 */
import type { Client } from '@connectrpc/connect';
import type { Command } from 'commander';
import type { DescService } from '@bufbuild/protobuf';
import { MaintenanceService, StatusPagesService, type MaintenanceSchedule } from '../gen/vantage/v1/status_pages_pb.js';
import { formatDuration, parsePositiveDurationFlag } from '../platform/duration.js';
import { failure, stdio, toJson, type CommonOptions, type MonitorCliIo } from './monitor.js';
import { connectOptions, serviceClient, table } from './connect-client.js';

function client<S extends DescService>(service: S, o: CommonOptions): Client<S> {
  return serviceClient(service, { server: o.server, apiKey: o.apiKey, timeoutMs: o.timeout !== undefined ? parsePositiveDurationFlag('--timeout', o.timeout) : 15_000 });
}

export const statusPagesClient = (o: CommonOptions): Client<typeof StatusPagesService> => client(StatusPagesService, o);
export const maintenanceClient = (o: CommonOptions): Client<typeof MaintenanceService> => client(MaintenanceService, o);

async function run(io: MonitorCliIo, fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
    return 0;
  } catch (err) {
    return failure(err, io);
  }
}

const collect = (v: string, p: string[] = []): string[] => [...p, v];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** "Name=id1,id2" → a group (the flag named in the error). */
export function parseGroupFlag(text: string): { name: string; monitorIds: string[] } {
  const at = text.indexOf('=');
  if (at <= 0) throw new Error(`--group: expected "Group name=monitorId,monitorId", got "${text}"`);
  return { name: text.slice(0, at).trim(), monitorIds: text.slice(at + 1).split(',').map((s) => s.trim()).filter((s) => s !== '') };
}

const FULL_WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** "mon,wed", "monday" or "1,3" → weekday numbers (0 = Sunday). */
export function parseWeekdaysFlag(text: string): number[] {
  return text.split(',').map((raw) => {
    const d = raw.trim().toLowerCase();
    const i = /^[0-6]$/.test(d) ? Number(d) : Math.max(WEEKDAYS.indexOf(d), FULL_WEEKDAYS.indexOf(d));
    if (i < 0) throw new Error(`--weekly: expected days such as mon,wed,sun (or 0-6, 0 = Sunday), got "${raw}"`);
    return i;
  });
}

function parseTimeFlag(flag: string, text: string): bigint {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`${flag}: expected an ISO 8601 time such as 2026-12-24T02:00:00Z (or epoch ms), got "${text}"`);
  return BigInt(ms);
}

interface AddWindowOptions extends CommonOptions {
  id?: string;
  title: string;
  description: string;
  starts?: string;
  ends?: string;
  weekly?: string;
  at?: string;
  cron?: string;
  duration?: string;
  timezone: string;
  monitor?: string[];
  group?: string[];
  statusPage?: string[];
}

/** The schedule the flags describe: --starts/--ends, --weekly/--at/--duration, or --cron/--duration. */
export function scheduleFromFlags(o: AddWindowOptions): Omit<MaintenanceSchedule, '$typeName'> {
  const kinds = [o.starts !== undefined || o.ends !== undefined, o.weekly !== undefined, o.cron !== undefined].filter(Boolean).length;
  if (kinds !== 1) throw new Error('schedule: expected exactly one of --starts/--ends (once), --weekly (with --at) or --cron');
  const base = { startsAtMs: 0n, endsAtMs: 0n, weekdays: [] as number[], start: '', expression: '', durationMs: 0n, timezone: '' };
  if (o.starts !== undefined || o.ends !== undefined) {
    if (o.starts === undefined || o.ends === undefined) throw new Error('schedule: a one-off window needs both --starts and --ends');
    return { ...base, kind: 'once', startsAtMs: parseTimeFlag('--starts', o.starts), endsAtMs: parseTimeFlag('--ends', o.ends) };
  }
  if (o.duration === undefined) throw new Error('--duration: required with --weekly or --cron, e.g. 2h');
  const durationMs = BigInt(parsePositiveDurationFlag('--duration', o.duration));
  if (o.weekly !== undefined) {
    if (o.at === undefined) throw new Error('--at: required with --weekly, a local time "HH:MM"');
    return { ...base, kind: 'weekly', weekdays: parseWeekdaysFlag(o.weekly), start: o.at, durationMs, timezone: o.timezone };
  }
  return { ...base, kind: 'cron', expression: o.cron!, durationMs, timezone: o.timezone };
}

export function describeSchedule(s: MaintenanceSchedule | undefined): string {
  if (!s) return '-';
  if (s.kind === 'once') return `${new Date(Number(s.startsAtMs)).toISOString()} → ${new Date(Number(s.endsAtMs)).toISOString()}`;
  const len = formatDuration(Number(s.durationMs));
  if (s.kind === 'weekly') return `${s.weekdays.map((d) => WEEKDAYS[d] ?? String(d)).join(',')} ${s.start} for ${len} (${s.timezone})`;
  return `cron "${s.expression}" for ${len} (${s.timezone})`;
}

export function registerStatusPageCommands(program: Command, io: MonitorCliIo = stdio): void {
  const common = (c: Command): Command => connectOptions(c, '15s');
  const set = (code: number): void => {
    process.exitCode = code;
  };

  const page = program.command('status-page').description('Public status pages (StatusPagesService).');
  common(page.command('list').description('List status pages.')).action(async (o: CommonOptions) =>
    set(
      await run(io, async () => {
        const { pages } = await statusPagesClient(o).listPages({});
        if (o.json) return io.out(toJson(pages));
        io.out(pages.length === 0 ? 'no status pages' : table([['SLUG', 'TITLE', 'GROUPS', 'MONITORS'], ...pages.map((p) => [p.slug, p.title, String(p.groups.length), String(p.groups.reduce((n, g) => n + g.monitorIds.length, 0))])]));
      }),
    ),
  );
  common(
    page
      .command('put <slug>')
      .description('Create or replace a status page (served at /status/<slug> on the web port).')
      .requiredOption('--title <text>', 'page title')
      .option('--description <text>', 'text under the title', '')
      .option('--group <name=ids>', 'a group of monitors, e.g. "API=mon_1,mon_2" (repeatable, in order)', collect)
      .option('--show-targets', "show each monitor's target URL on the page"),
  ).action(async (slug: string, o: CommonOptions & { title: string; description: string; group?: string[]; showTargets?: boolean }) =>
    set(
      await run(io, async () => {
        const groups = (o.group ?? []).map(parseGroupFlag);
        const { page: p } = await statusPagesClient(o).putPage({ page: { slug, title: o.title, description: o.description, groups, showTargets: o.showTargets === true } });
        io.out(o.json ? toJson(p) : `saved ${p!.slug} (${p!.groups.length} group(s))`);
      }),
    ),
  );
  common(page.command('rm <slug>').description('Delete a status page and its subscribers.')).action(async (slug: string, o: CommonOptions) =>
    set(
      await run(io, async () => {
        await statusPagesClient(o).deletePage({ slug });
        io.out(`deleted ${slug}`);
      }),
    ),
  );

  const mw = program.command('maintenance').description('Maintenance windows: alerts held back, status pages say so (MaintenanceService).');
  common(mw.command('list').description('List maintenance windows.')).action(async (o: CommonOptions) =>
    set(
      await run(io, async () => {
        const { windows } = await maintenanceClient(o).listWindows({});
        if (o.json) return io.out(toJson(windows));
        const targets = (t: { monitorIds: string[]; groups: string[]; statusPages: string[] } | undefined): string =>
          t ? [...t.monitorIds, ...t.groups.map((g) => `group:${g}`), ...t.statusPages.map((s) => `page:${s}`)].join(',') : '-';
        io.out(windows.length === 0 ? 'no maintenance windows' : table([['ID', 'TITLE', 'SCHEDULE', 'TARGETS'], ...windows.map((w) => [w.id, w.title, describeSchedule(w.schedule), targets(w.targets)])]));
      }),
    ),
  );
  common(
    mw
      .command('add')
      .description('Add a maintenance window (or replace one with --id). One-off: --starts/--ends; recurring: --weekly + --at + --duration, or --cron + --duration.')
      .requiredOption('--title <text>', 'title')
      .option('--description <text>', 'description', '')
      .option('--id <id>', 'replace this window instead of adding one')
      .option('--starts <time>', 'one-off start, ISO 8601 (e.g. 2026-12-24T02:00:00Z)')
      .option('--ends <time>', 'one-off end, ISO 8601')
      .option('--weekly <days>', 'recurring on these days, e.g. sun or mon,thu')
      .option('--at <HH:MM>', 'local start time of a weekly window')
      .option('--cron <expression>', 'recurring at a cron expression (local time), e.g. "0 2 * * 0"')
      .option('--duration <duration>', 'length of each occurrence, e.g. 2h')
      .option('--timezone <tz>', 'IANA timezone of --at / --cron', 'UTC')
      .option('--monitor <id>', 'covered monitor (repeatable)', collect)
      .option('--group <name>', 'covered status-page group (repeatable)', collect)
      .option('--status-page <slug>', 'covered status page, all its monitors (repeatable)', collect),
  ).action(async (o: AddWindowOptions) =>
    set(
      await run(io, async () => {
        const schedule = scheduleFromFlags(o);
        const { window: w } = await maintenanceClient(o).putWindow({
          window: { id: o.id ?? '', title: o.title, description: o.description, schedule, targets: { monitorIds: o.monitor ?? [], groups: o.group ?? [], statusPages: o.statusPage ?? [] } },
        });
        io.out(o.json ? toJson(w) : `${o.id ? 'updated' : 'created'} ${w!.id} (${describeSchedule(w!.schedule)})`);
      }),
    ),
  );
  common(mw.command('rm <id>').description('Delete a maintenance window.')).action(async (id: string, o: CommonOptions) =>
    set(
      await run(io, async () => {
        await maintenanceClient(o).deleteWindow({ id });
        io.out(`deleted ${id}`);
      }),
    ),
  );
}
