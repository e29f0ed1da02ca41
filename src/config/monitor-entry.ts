/**
 * One monitor as written in a file: the entries of `monitors.yml` (`vantage monitor apply -f`) and of the
 * `monitors:` list in server.yml. The shape is checked here; the entry then becomes a MonitorInput and goes
 * through the same validation as `monitor add` (src/api/web/validation.ts: check type, URL, assertions,
 * ranges). `name` is required: apply identifies monitors by name.
 */
import { z } from 'zod';
import { parseDuration } from '../platform/duration.js';
import { validateApplyInputs, type MonitorInputData } from '../api/web/validation.js';

const expected = (what: string) => ({ error: `expected ${what}` });

/** "30s", "5m", "500ms", or a number of seconds. */
const duration = z.union([z.string(), z.number()], expected('a duration such as "30s", "5m" or "500ms"')).transform((v, ctx) => {
  try {
    return parseDuration(String(v));
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as "30s", "5m" or "500ms", got ${JSON.stringify(v)}`, input: v });
    return z.NEVER;
  }
});

export const MonitorEntrySchema = z.strictObject(
  {
    name: z.string(expected('a name (apply identifies monitors by name)')).trim().min(1, expected('a non-empty name (apply identifies monitors by name)')),
    url: z.string(expected('a URL: http(s)://…, tcp://host:port, dns://name, tls://host:port')),
    type: z.string(expected('a check type')).optional(),
    method: z.string(expected('an HTTP method')).optional(),
    interval: duration.optional(),
    timeout: duration.optional(),
    headers: z.record(z.string(), z.string(), expected('a map of header name to value')).optional(),
    body: z.string(expected('a string')).optional(),
    assertions: z.array(z.string(), expected('a list of assertions such as "status == 200"')).optional(),
    regions: z.array(z.string(), expected('a list of regions')).optional(),
    enabled: z.boolean(expected('true or false')).optional(),
    options: z.record(z.string(), z.unknown(), expected('a map of check options')).optional(),
  },
  expected('a monitor {name, url, type?, method?, interval?, timeout?, headers?, body?, assertions?, regions?, enabled?, options?}'),
);
export type MonitorEntry = z.output<typeof MonitorEntrySchema>;

export const MonitorEntriesSchema = z.array(MonitorEntrySchema, expected('a list of monitors ({name, url, …})'));

/** The file entry as the MonitorInput that `monitor add` would send (unset fields keep the API defaults). */
export function entryToInput(e: MonitorEntry): MonitorInputData {
  return {
    name: e.name,
    url: e.url,
    type: e.type ?? '',
    method: e.method ?? '',
    headers: e.headers ?? {},
    body: e.body ?? '',
    interval_ms: e.interval,
    timeout_ms: e.timeout,
    assertions: e.assertions ?? [],
    regions: e.regions ?? [],
    enabled: e.enabled ?? true,
    options_json: e.options && Object.keys(e.options).length > 0 ? JSON.stringify(e.options) : '',
  };
}

/** Describes zod issues of an entry list as `monitors[3] (api): interval: expected …`, one per line. */
export function describeEntryIssues(err: z.ZodError, raw: unknown, label = 'monitors'): string[] {
  return err.issues.map((i) => {
    const [index, ...rest] = i.path;
    const entry = Array.isArray(raw) && typeof index === 'number' ? (raw[index] as { name?: unknown } | undefined) : undefined;
    const name = entry && typeof entry.name === 'string' && entry.name.trim() !== '' ? ` (${entry.name.trim()})` : '';
    const where = typeof index === 'number' ? `${label}[${index}]${name}` : label;
    const field = rest.map(String).join('.');
    const message = i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.join(', ')}` : i.message;
    return `${where}: ${field === '' ? '' : `${field}: `}${message}`;
  });
}

/** The keys an entry may have (for "did you mean" hints). */
export const MONITOR_ENTRY_KEYS = Object.keys(MonitorEntrySchema.shape);

/**
 * server.yml's `monitors:`: the entry shape, then each entry validated as `monitor add` validates it, so that
 * `vantage config check` and the start refuse a bad entry naming its index, name and field.
 */
export const ServerMonitorsSchema = MonitorEntriesSchema.default([]).superRefine((entries, ctx) => {
  const v = validateApplyInputs(entries.map(entryToInput));
  if (v.ok) return;
  for (const e of v.errors) {
    ctx.addIssue({ code: 'custom', path: [e.index], message: `expected a valid monitor${e.name === '' ? '' : ` "${e.name}"`} (${e.message})`, input: entries[e.index] });
  }
}) as unknown as z.ZodType<MonitorEntry[]>;
