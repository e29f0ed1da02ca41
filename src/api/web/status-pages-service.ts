/**
 * The Connect implementations of vantage.v1.StatusPagesService and vantage.v1.MaintenanceService over the
 * StatusPagesStore. Every body is validated here with zod (one schema per contract); an error names the field.
 * After each change `onMaintenanceChanged` runs so the in-memory maintenance calendar reloads.
 */
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { z } from 'zod';
import type {
  MaintenanceService,
  MaintenanceWindow,
  StatusPage,
  StatusPagesService,
} from '../../gen/vantage/v1/status_pages_pb.js';
import { scheduleError, type MaintenanceSchedule } from '../../monitoring/maintenance/window-math.js';
import { randomId } from '../../platform/ids.js';
import { SLUG_HINT, SLUG_RE, type MaintenanceRecord, type MaintenanceSpec, type StatusPageRecord, type StatusPageSpec, type StatusPagesStore } from '../../store/status-pages.js';

export interface StatusPagesServiceDeps {
  statusPages: StatusPagesStore;
  now: () => number;
  /** Called after a page or window changed (the maintenance calendar reloads). */
  onMaintenanceChanged?: () => void;
}

const invalid = (m: string): ConnectError => new ConnectError(m, Code.InvalidArgument);
const notFound = (what: string): ConnectError => new ConnectError(`${what} not found`, Code.NotFound);

/** The first issue as "<field path>: <what was expected>", fields in their proto (snake_case) spelling. */
function firstIssue(err: z.ZodError, prefix: string): string {
  const i = err.issues[0]!;
  const path = i.path.map((p) => String(p).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
  return `${[prefix, ...path].filter((p) => p !== '').join('.')}: ${i.message}`;
}

export { SLUG_RE } from '../../store/status-pages.js';
const ids = (what: string) => z.array(z.string().trim().min(1, { error: `expected a ${what}` }).max(200, { error: 'expected at most 200 characters' })).max(1000, { error: 'expected at most 1000 entries' });

/** The StatusPage contract (output fields created_at_ms/updated_at_ms are ignored). */
export const StatusPageInput = z.object({
  slug: z.string().regex(SLUG_RE, { error: SLUG_HINT }),
  title: z.string().trim().min(1, { error: 'expected a title' }).max(200, { error: 'expected at most 200 characters' }),
  description: z.string().max(5000, { error: 'expected at most 5000 characters' }),
  groups: z
    .array(z.object({ name: z.string().trim().min(1, { error: 'expected a group name' }).max(200, { error: 'expected at most 200 characters' }), monitorIds: ids('monitor id') }))
    .max(100, { error: 'expected at most 100 groups' }),
  showTargets: z.boolean(),
});
export type StatusPageInputData = z.infer<typeof StatusPageInput>;

const ScheduleInput = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('once'), startsAt: z.number().int().positive({ error: 'expected a start time (epoch ms)' }), endsAt: z.number().int().positive({ error: 'expected an end time (epoch ms)' }) }),
    z.object({ kind: z.literal('weekly'), weekdays: z.array(z.number().int()), start: z.string(), durationMs: z.number().int(), timezone: z.string() }),
    z.object({ kind: z.literal('cron'), expression: z.string().trim().min(1, { error: 'expected a cron expression' }), durationMs: z.number().int(), timezone: z.string() }),
  ],
  { error: 'expected once, weekly or cron' },
);

/** The MaintenanceWindow contract. */
export const MaintenanceWindowInput = z.object({
  title: z.string().trim().min(1, { error: 'expected a title' }).max(200, { error: 'expected at most 200 characters' }),
  description: z.string().max(5000, { error: 'expected at most 5000 characters' }),
  schedule: ScheduleInput,
  targets: z.object({ monitorIds: ids('monitor id'), groups: ids('group name'), statusPages: z.array(z.string().regex(SLUG_RE, { error: SLUG_HINT })).max(1000) }),
});

export function pageToProto(p: StatusPageRecord): StatusPage {
  return {
    $typeName: 'vantage.v1.StatusPage',
    slug: p.slug,
    title: p.title,
    description: p.description,
    groups: p.groups.map((g) => ({ $typeName: 'vantage.v1.StatusPageGroup', name: g.name, monitorIds: g.monitorIds })),
    showTargets: p.showTargets,
    createdAtMs: BigInt(p.createdAt),
    updatedAtMs: BigInt(p.updatedAt),
  } as StatusPage;
}

export function windowToProto(w: MaintenanceRecord): MaintenanceWindow {
  const s = w.schedule;
  return {
    $typeName: 'vantage.v1.MaintenanceWindow',
    id: w.id,
    title: w.title,
    description: w.description,
    schedule: {
      $typeName: 'vantage.v1.MaintenanceSchedule',
      kind: s.kind,
      startsAtMs: BigInt(s.kind === 'once' ? s.startsAt : 0),
      endsAtMs: BigInt(s.kind === 'once' ? s.endsAt : 0),
      weekdays: s.kind === 'weekly' ? s.weekdays : [],
      start: s.kind === 'weekly' ? s.start : '',
      expression: s.kind === 'cron' ? s.expression : '',
      durationMs: BigInt(s.kind === 'once' ? 0 : s.durationMs),
      timezone: s.kind === 'once' ? '' : s.timezone,
    },
    targets: { $typeName: 'vantage.v1.MaintenanceTargets', ...w.targets },
    createdAtMs: BigInt(w.createdAt),
    updatedAtMs: BigInt(w.updatedAt),
  } as MaintenanceWindow;
}

/** Validates a page from the wire into the store's spec (errors prefixed "page."). */
export function parsePage(p: StatusPage | undefined): StatusPageSpec {
  if (!p) throw invalid('page: required');
  const r = StatusPageInput.safeParse({ slug: p.slug, title: p.title, description: p.description, groups: p.groups.map((g) => ({ name: g.name, monitorIds: g.monitorIds })), showTargets: p.showTargets });
  if (!r.success) throw invalid(firstIssue(r.error, 'page'));
  return r.data;
}

/** Validates a window from the wire into the store's spec (errors prefixed "window."). */
export function parseWindow(w: MaintenanceWindow | undefined): MaintenanceSpec {
  if (!w) throw invalid('window: required');
  const s = w.schedule;
  if (!s) throw invalid('window.schedule: required');
  const r = MaintenanceWindowInput.safeParse({
    title: w.title,
    description: w.description,
    schedule: { kind: s.kind, startsAt: Number(s.startsAtMs), endsAt: Number(s.endsAtMs), weekdays: s.weekdays, start: s.start, expression: s.expression, durationMs: Number(s.durationMs), timezone: s.timezone },
    targets: { monitorIds: w.targets?.monitorIds ?? [], groups: w.targets?.groups ?? [], statusPages: w.targets?.statusPages ?? [] },
  });
  if (!r.success) throw invalid(firstIssue(r.error, 'window'));
  const schedule = r.data.schedule as MaintenanceSchedule;
  const bad = scheduleError(schedule);
  if (bad !== null) throw invalid(`window.schedule.${bad}`);
  const t = r.data.targets;
  if (t.monitorIds.length + t.groups.length + t.statusPages.length === 0) throw invalid('window.targets: expected at least one monitor id, group or status page');
  return { title: r.data.title, description: r.data.description, schedule, targets: t };
}

export function createStatusPagesServiceImpl(d: StatusPagesServiceDeps): ServiceImpl<typeof StatusPagesService> {
  const store = d.statusPages;
  const changed = (): void => d.onMaintenanceChanged?.();
  return {
    async listPages() {
      return { pages: (await store.listPages()).map(pageToProto) };
    },
    async getPage(req) {
      const p = await store.getPage(req.slug);
      if (!p) throw notFound(`status page ${req.slug}`);
      return { page: pageToProto(p) };
    },
    async putPage(req) {
      const saved = await store.upsertPage(parsePage(req.page), d.now());
      changed();
      return { page: pageToProto(saved) };
    },
    async deletePage(req) {
      if (!(await store.deletePage(req.slug))) throw notFound(`status page ${req.slug}`);
      changed();
      return {};
    },
  };
}

export function createMaintenanceServiceImpl(d: StatusPagesServiceDeps): ServiceImpl<typeof MaintenanceService> {
  const store = d.statusPages;
  const changed = (): void => d.onMaintenanceChanged?.();
  return {
    async listWindows() {
      return { windows: (await store.listWindows()).map(windowToProto) };
    },
    async putWindow(req) {
      const spec = parseWindow(req.window);
      const id = req.window!.id;
      const saved = id === '' ? await store.createWindow(spec, { id: randomId('mw_', 12), now: d.now() }) : await store.updateWindow(id, spec, d.now());
      if (!saved) throw notFound(`maintenance window ${id}`);
      changed();
      return { window: windowToProto(saved) };
    },
    async deleteWindow(req) {
      if (!(await store.deleteWindow(req.id))) throw notFound(`maintenance window ${req.id}`);
      changed();
      return {};
    },
  };
}
