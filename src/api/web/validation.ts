/**
 * The MonitorInput contract (create/update), validated with zod: check fields through the shared
 * registry's checkSpecSchema(), assertions through validateAssertions (an invalid one is named in the error), plus the
 * scheduling fields. Produces the store's MonitorSpec.
 */
import { z } from 'zod';
import { validateAssertions, describeAssertionErrors, type Assertion } from '../../monitoring/assertions/index.js';
import { checkSpecSchema, checkType, checkTypeForUrl } from '../../monitoring/checks/registry.js';
import { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from '../../monitoring/checks/spec.js';
import type { MonitorSpec } from '../../store/monitoring.js';
import { COMPARED_FIELDS } from '../../monitoring/apply/plan.js';

export const MIN_INTERVAL_MS = 1_000;
export const MAX_INTERVAL_MS = 86_400_000;
export const DEFAULT_INTERVAL_MS = 60_000;
export const MIN_TIMEOUT_MS = 1;
const REGION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** MonitorInput as plain data ('' / [] mean "not set"; interval_ms and timeout_ms are unset when undefined, and 0 is out of range). */
export const MonitorInputSchema = z.object({
  name: z.string().max(200).default(''),
  type: z.string().default(''),
  url: z.string().default(''),
  method: z.string().default(''),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().default(''),
  interval_ms: z.number().int().optional(),
  timeout_ms: z.number().int().optional(),
  assertions: z.array(z.string()).default([]),
  regions: z.array(z.string()).default([]),
  enabled: z.boolean().optional(),
  options_json: z.string().max(16_384).default(''),
});
export type MonitorInputData = z.input<typeof MonitorInputSchema>;

/** The MonitorInput fields an update mask may name: the spec fields apply compares, options as its JSON text. */
export const UPDATABLE_FIELDS: readonly string[] = COMPARED_FIELDS.map((f) => (f === 'options' ? 'options_json' : f));

export type ValidateMonitorResult = { ok: true; spec: MonitorSpec } | { ok: false; error: string };

function issuesText(err: z.ZodError, prefix = ''): string {
  return err.issues.map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join('.') || 'monitor'}: ${i.message}`).join('; ');
}

/** Validates a full monitor definition (unset fields take their defaults). */
export function validateMonitorInput(input: MonitorInputData): ValidateMonitorResult {
  const base = MonitorInputSchema.safeParse(input);
  if (!base.success) return { ok: false, error: issuesText(base.error) };
  const m = base.data;
  if (m.url.trim() === '') return { ok: false, error: 'url: required' };

  const interval = m.interval_ms ?? DEFAULT_INTERVAL_MS;
  if (interval < MIN_INTERVAL_MS || interval > MAX_INTERVAL_MS) {
    return { ok: false, error: `interval_ms: must be between ${MIN_INTERVAL_MS} and ${MAX_INTERVAL_MS} (1s to 1d), got ${interval}` };
  }
  if (m.timeout_ms !== undefined && (m.timeout_ms < MIN_TIMEOUT_MS || m.timeout_ms > MAX_TIMEOUT_MS)) {
    return { ok: false, error: `timeout_ms: must be between ${MIN_TIMEOUT_MS} and ${MAX_TIMEOUT_MS} (1ms to 2m), got ${m.timeout_ms}` };
  }

  let options: unknown = {};
  if (m.options_json.trim() !== '') {
    try {
      options = JSON.parse(m.options_json);
    } catch (err) {
      return { ok: false, error: `options_json: not valid JSON (${(err as Error).message})` };
    }
  }
  // No type: the registry's type for the URL's scheme (tcp://, dns://, tls://, http(s)://); else the schema default.
  const check = checkSpecSchema().safeParse({
    type: m.type === '' ? checkTypeForUrl(m.url.trim()) : m.type,
    url: m.url.trim(),
    method: m.method === '' ? undefined : m.method,
    headers: m.headers,
    body: m.body,
    timeout_ms: m.timeout_ms ?? Math.min(DEFAULT_TIMEOUT_MS, interval),
    options,
  });
  if (!check.success) return { ok: false, error: issuesText(check.error) };

  const assertions = validateAssertions(m.assertions);
  if (!assertions.ok) return { ok: false, error: describeAssertionErrors(assertions.errors) };
  const unsupported = unsupportedAssertions(check.data.type, m.assertions, assertions.assertions);
  if (unsupported !== null) return { ok: false, error: unsupported };

  const regions = m.regions.length === 0 ? ['global'] : [...new Set(m.regions.map((r) => r.trim()))];
  const badRegion = regions.find((r) => !REGION_RE.test(r));
  if (badRegion !== undefined) return { ok: false, error: `regions: invalid region "${badRegion.slice(0, 64)}" (letters, digits, . _ -)` };
  if (regions.length > 32) return { ok: false, error: 'regions: at most 32' };

  let name = m.name.trim();
  if (name === '') {
    try {
      name = new URL(check.data.url).host || check.data.url;
    } catch {
      name = check.data.url;
    }
  }

  return {
    ok: true,
    spec: {
      name: name.slice(0, 200),
      type: check.data.type,
      url: check.data.url,
      method: check.data.method,
      headers: check.data.headers,
      body: check.data.body,
      interval_ms: interval,
      timeout_ms: check.data.timeout_ms,
      assertions: m.assertions.map((a) => a.trim()),
      assertions_compiled: assertions.assertions,
      options: check.data.options as Record<string, unknown>,
      regions,
      enabled: m.enabled ?? true,
    },
  };
}

/**
 * Assertions on a subject the check type's probe never produces (`status == 200` on tcp) would keep the
 * monitor down forever: each is named with what the type supports, or null when all are supported.
 */
function unsupportedAssertions(type: string, texts: readonly string[], compiled: readonly Assertion[]): string | null {
  const subjects = checkType(type)?.assertionSubjects;
  if (subjects === undefined) return null;
  const errors = compiled.flatMap((a, index) =>
    subjects.includes(a.type)
      ? []
      : [{ index, text: texts[index] ?? a.type, message: `a ${type} check cannot produce ${a.type}; ${type} supports ${subjects.join(', ')}` }],
  );
  return errors.length === 0 ? null : describeAssertionErrors(errors);
}

/** The MonitorInput view of a stored spec (to merge an update into). */
export function specToInput(s: MonitorSpec): MonitorInputData {
  return {
    name: s.name,
    type: s.type,
    url: s.url,
    method: s.method,
    headers: s.headers,
    body: s.body,
    interval_ms: s.interval_ms,
    timeout_ms: s.timeout_ms,
    assertions: s.assertions,
    regions: s.regions,
    enabled: s.enabled,
    options_json: JSON.stringify(s.options),
  };
}

/** Applies the masked fields of `input` onto `current`; an empty mask replaces every field. */
export function applyUpdateMask(
  current: MonitorInputData,
  input: MonitorInputData,
  mask: readonly string[],
): { ok: true; merged: MonitorInputData } | { ok: false; error: string } {
  const fields = mask.length === 0 ? UPDATABLE_FIELDS : mask;
  const unknown = fields.filter((f) => !UPDATABLE_FIELDS.includes(f));
  if (unknown.length > 0) return { ok: false, error: `update_mask: unknown field(s) ${unknown.join(', ')} (known: ${UPDATABLE_FIELDS.join(', ')})` };
  const merged: Record<string, unknown> = { ...current };
  for (const f of fields) merged[f] = (input as Record<string, unknown>)[f];
  if (merged.enabled === undefined) merged.enabled = current.enabled;
  return { ok: true, merged: merged as MonitorInputData };
}

export interface ApplyInputError {
  index: number;
  /** The entry's name, '' when it has none. */
  name: string;
  message: string;
}
export type ValidateApplyResult = { ok: true; specs: MonitorSpec[] } | { ok: false; errors: ApplyInputError[] };

/** `monitors[3] (api): interval_ms: …` */
export const describeApplyError = (e: ApplyInputError): string => `monitors[${e.index}]${e.name === '' ? '' : ` (${e.name})`}: ${e.message}`;

/**
 * Validates the wanted monitors of an apply: each as validateMonitorInput does, plus a non-empty name that
 * appears once (apply identifies monitors by name). Every error names the entry's index and name.
 */
export function validateApplyInputs(inputs: readonly MonitorInputData[]): ValidateApplyResult {
  const errors: ApplyInputError[] = [];
  const specs: MonitorSpec[] = [];
  const firstIndex = new Map<string, number>();
  inputs.forEach((input, index) => {
    const name = (input.name ?? '').trim();
    if (name === '') {
      errors.push({ index, name, message: 'name: required (apply identifies monitors by name)' });
      return;
    }
    const seen = firstIndex.get(name);
    if (seen !== undefined) {
      errors.push({ index, name, message: `name: "${name}" is also the name of monitors[${seen}]; names must be unique (apply identifies monitors by name)` });
      return;
    }
    firstIndex.set(name, index);
    const v = validateMonitorInput(input);
    if (!v.ok) errors.push({ index, name, message: v.error });
    else specs.push(v.spec);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, specs };
}
