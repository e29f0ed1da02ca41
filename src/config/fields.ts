import { z } from 'zod';

/**
 * Field builders for the config tables. Each field carries its zod schema (with an "expected …" message),
 * the kind used to coerce string values from the environment and CLI flags, its default and a one-line doc.
 * The tables in server.ts and client.ts are the single place where keys are named, documented and defaulted.
 */
export type FieldKind = 'int' | 'number' | 'bool' | 'string' | 'string[]' | 'nullable-number' | 'json';

export interface Field<T> {
  schema: z.ZodType<T>;
  kind: FieldKind;
  default: T;
  doc: string;
  /** Placeholder shown in --help, e.g. "<n>". */
  arg?: string;
  /** A filled-in value shown (commented out) under the default in the example file (`vantage config defaults`). */
  example?: T;
}

const msg = (expected: string) => ({ error: `expected ${expected}` });

export function int(def: number, doc: string, opts: { min?: number; max?: number } = {}): Field<number> {
  const { min, max } = opts;
  let expected = 'an integer';
  if (min === 1 && max === undefined) expected = 'a positive integer';
  else if (min === 0 && max === undefined) expected = 'a non-negative integer';
  else if (min !== undefined && max !== undefined) expected = `an integer from ${min} to ${max}`;
  else if (min !== undefined) expected = `an integer ≥ ${min}`;
  let s = z.number(msg(expected)).int(msg(expected));
  if (min !== undefined) s = s.min(min, msg(expected));
  if (max !== undefined) s = s.max(max, msg(expected));
  return { schema: s.default(def) as unknown as z.ZodType<number>, kind: 'int', default: def, doc, arg: '<n>' };
}

export function num(def: number, doc: string, opts: { min?: number; max?: number; exclusiveMin?: boolean } = {}): Field<number> {
  const { min, max } = opts;
  let expected = 'a number';
  if (min === 0 && opts.exclusiveMin) expected = 'a positive number';
  else if (min === 0) expected = 'a non-negative number';
  else if (min !== undefined && max !== undefined) expected = `a number from ${min} to ${max}`;
  let s = z.number(msg(expected)).refine(Number.isFinite, msg(expected));
  if (min !== undefined) s = s.refine((v) => (opts.exclusiveMin ? v > min : v >= min), msg(expected));
  if (max !== undefined) s = s.refine((v) => v <= max, msg(expected));
  return { schema: s.default(def) as unknown as z.ZodType<number>, kind: 'number', default: def, doc, arg: '<n>' };
}

export function nullableNum(doc: string, opts: { min: number; max: number }): Field<number | null> {
  const expected = `a number from ${opts.min} to ${opts.max}, or empty for unknown`;
  const s = z
    .number(msg(expected))
    .min(opts.min, msg(expected))
    .max(opts.max, msg(expected))
    .nullable()
    .default(null);
  return { schema: s as unknown as z.ZodType<number | null>, kind: 'nullable-number', default: null, doc, arg: '<n>' };
}

export function bool(def: boolean, doc: string): Field<boolean> {
  return { schema: z.boolean(msg('true or false')).default(def) as unknown as z.ZodType<boolean>, kind: 'bool', default: def, doc };
}

export function str(def: string, doc: string, refine?: { check: (v: string) => boolean; expected: string }): Field<string> {
  let s: z.ZodType<string> = z.string(msg('a string'));
  if (refine) s = (s as z.ZodString).refine(refine.check, msg(refine.expected));
  return { schema: (s as z.ZodString).default(def) as unknown as z.ZodType<string>, kind: 'string', default: def, doc, arg: '<value>' };
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, def: T[number], doc: string): Field<T[number]> {
  const expected = `one of ${values.map((v) => `"${v}"`).join(', ')}`;
  return {
    schema: z.enum(values, msg(expected)).default(def as never) as unknown as z.ZodType<T[number]>,
    kind: 'string',
    default: def,
    doc,
    arg: `<${values.join('|')}>`,
  };
}

export function strList(doc: string, item?: { check: (v: string) => boolean; expected: string }): Field<string[]> {
  let el: z.ZodType<string> = z.string(msg('a list of strings'));
  if (item) el = (el as z.ZodString).refine(item.check, msg(item.expected));
  const s = z.array(el, msg('a list of strings')).default([]);
  return { schema: s as unknown as z.ZodType<string[]>, kind: 'string[]', default: [], doc, arg: '<a,b,…>' };
}

export function json<T>(schema: z.ZodType<T>, def: T, doc: string, example?: unknown): Field<T> {
  return { schema, kind: 'json', default: def, doc, arg: '<json>', ...(example !== undefined ? { example: example as T } : {}) };
}

export type FieldTable = Record<string, Field<unknown>>;
export type ConfigOf<F extends FieldTable> = { [K in keyof F]: F[K] extends Field<infer T> ? T : never };

/** The defaults of `keys` from a field table (the table is the one place keys are defaulted). */
export function defaultsOf<F extends FieldTable, K extends keyof F & string>(table: F, keys: readonly K[]): Pick<ConfigOf<F>, K> {
  return Object.fromEntries(keys.map((k) => [k, table[k]!.default])) as Pick<ConfigOf<F>, K>;
}

/** Turns a config key into its CLI flag (`rate_limit_per_minute` → `--rate-limit-per-minute`). */
export const flagName = (key: string): string => `--${key.replace(/_/g, '-')}`;
/** Turns a config key into its environment variable (`port` → `VANTAGE_PORT`). */
export const envName = (key: string): string => `VANTAGE_${key.toUpperCase()}`;

/**
 * Coerces a string from the environment or a CLI flag to the field's kind. Values that don't parse are
 * returned unchanged so that validation reports them with the original text ("got \"abc\"").
 */
export function coerce(kind: FieldKind, raw: string): unknown {
  const t = raw.trim();
  switch (kind) {
    case 'int':
    case 'number':
      return t !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : raw;
    case 'nullable-number':
      if (t === '' || t === 'null') return null;
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : raw;
    case 'bool': {
      const l = t.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(l)) return true;
      if (['false', '0', 'no', 'off'].includes(l)) return false;
      return raw;
    }
    case 'string[]':
      if (t === '') return [];
      if (t.startsWith('[')) {
        try {
          return JSON.parse(t) as unknown;
        } catch {
          return raw;
        }
      }
      return t.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'json':
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return raw;
      }
    default:
      return raw;
  }
}
