/**
 * Monitor assertions: the model (zod, one schema per kind), the text syntax used
 * by the CLI (`status == 200`, `json $.a.b[0] > 3`, …; see docs/assertions.md),
 * validation at monitor creation, and evaluation in the agent.
 *
 * Pure: no I/O. Shared by the server (validation) and the agent (evaluation).
 */
import { z } from 'zod';
import { formatJsonPath, parseJsonPath, selectJsonPath } from './jsonpath.js';
import type { JsonPathSegment } from './jsonpath.js';

export const MAX_ASSERTIONS = 50;
const MAX_TEXT_VALUE = 4096;
const MAX_PATTERN = 1024;

const StatusCode = z.number().int().min(100).max(599);
const HeaderName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a valid HTTP header name')
  .transform((s) => s.toLowerCase());
const TextValue = z.string().max(MAX_TEXT_VALUE);
const Pattern = z
  .string()
  .min(1)
  .max(MAX_PATTERN)
  .superRefine((p, ctx) => {
    const err = regexError(p);
    if (err !== null) ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${err}` });
  });
/** A JSON path, normalized to its canonical text (`$['a']` → `$.a`). */
const JsonPathText = z
  .string()
  .min(1)
  .transform((p, ctx) => {
    const r = parseJsonPath(p);
    if (!r.ok) {
      ctx.addIssue({ code: 'custom', message: r.error });
      return z.NEVER;
    }
    return formatJsonPath(r.segments);
  });

export const StatusAssertionSchema = z.discriminatedUnion('op', [
  z.strictObject({ type: z.literal('status'), op: z.enum(['==', '!=']), value: StatusCode }),
  z.strictObject({ type: z.literal('status'), op: z.literal('in'), values: z.array(StatusCode).min(1).max(64) }),
  z
    .strictObject({ type: z.literal('status'), op: z.literal('between'), min: StatusCode, max: StatusCode })
    .refine((a) => a.min <= a.max, { message: 'min must not exceed max', path: ['max'] }),
]);

export const ResponseTimeAssertionSchema = z.strictObject({
  type: z.literal('response_time'),
  op: z.enum(['<', '<=']),
  /** milliseconds */
  value: z.number().positive().max(600_000),
});

export const HeaderAssertionSchema = z.discriminatedUnion('op', [
  z.strictObject({ type: z.literal('header'), name: HeaderName, op: z.enum(['==', '!=', 'contains']), value: TextValue }),
  z.strictObject({ type: z.literal('header'), name: HeaderName, op: z.literal('matches'), value: Pattern }),
]);

export const BodyAssertionSchema = z.discriminatedUnion('op', [
  z.strictObject({ type: z.literal('body'), op: z.literal('contains'), value: TextValue.min(1) }),
  z.strictObject({ type: z.literal('body'), op: z.literal('matches'), value: Pattern }),
]);

export const JsonAssertionSchema = z.discriminatedUnion('op', [
  z.strictObject({ type: z.literal('json'), path: JsonPathText, op: z.literal('exists') }),
  z.strictObject({ type: z.literal('json'), path: JsonPathText, op: z.enum(['==', '!=']), value: z.json() }),
  z.strictObject({
    type: z.literal('json'),
    path: JsonPathText,
    op: z.enum(['>', '>=', '<', '<=']),
    value: z.number().finite(),
  }),
]);

export const CertExpiryAssertionSchema = z.strictObject({
  type: z.literal('cert_expires_in'),
  op: z.enum(['>', '>=']),
  /** days */
  value: z.number().min(0).max(36_500),
});

export const AssertionSchema = z.discriminatedUnion('type', [
  StatusAssertionSchema,
  ResponseTimeAssertionSchema,
  HeaderAssertionSchema,
  BodyAssertionSchema,
  JsonAssertionSchema,
  CertExpiryAssertionSchema,
]);

export type Assertion = z.output<typeof AssertionSchema>;
export type AssertionInput = z.input<typeof AssertionSchema>;

export const AssertionActualSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type AssertionActual = z.output<typeof AssertionActualSchema>;

export const AssertionOutcomeSchema = z.object({
  /** canonical text of the assertion (formatAssertion) */
  assertion: z.string(),
  passed: z.boolean(),
  actual: AssertionActualSchema,
  /** why the value could not be evaluated (e.g. body is not JSON) */
  error: z.string().optional(),
});
export type AssertionOutcome = z.output<typeof AssertionOutcomeSchema>;

// ---------------------------------------------------------------------------
// Regular expressions: `(?i)` prefix = case-insensitive (RE2/Go style).

function splitFlags(pattern: string): { source: string; flags: string } {
  if (pattern.startsWith('(?i)')) return { source: pattern.slice(4), flags: 'i' };
  return { source: pattern, flags: '' };
}

function regexError(pattern: string): string | null {
  try {
    const { source, flags } = splitFlags(pattern);
    new RegExp(source, flags);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const regexCache = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    const { source, flags } = splitFlags(pattern);
    re = new RegExp(source, flags);
    if (regexCache.size >= 1024) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

// ---------------------------------------------------------------------------
// Text syntax.

export type ParseResult = { ok: true; assertion: Assertion } | { ok: false; error: string };

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i] as string)) this.i++;
  }
  eof(): boolean {
    this.ws();
    return this.i >= this.s.length;
  }
  /** identifier-like word: letters, digits, '_' */
  ident(): string {
    this.ws();
    const start = this.i;
    while (this.i < this.s.length && /[A-Za-z0-9_]/.test(this.s[this.i] as string)) this.i++;
    return this.s.slice(start, this.i);
  }
  /** a run of non-space characters */
  word(): string {
    this.ws();
    const start = this.i;
    while (this.i < this.s.length && !/\s/.test(this.s[this.i] as string)) this.i++;
    return this.s.slice(start, this.i);
  }
  /** an operator: a run of `=!<>` characters, or a word */
  op(): string {
    this.ws();
    const start = this.i;
    if (/[=!<>]/.test(this.s[this.i] ?? '')) {
      while (this.i < this.s.length && /[=!<>]/.test(this.s[this.i] as string)) this.i++;
      return this.s.slice(start, this.i);
    }
    return this.ident().toLowerCase();
  }
  /** a JSON path: up to whitespace or an operator character outside brackets/quotes */
  path(): string {
    this.ws();
    const start = this.i;
    let depth = 0;
    let quote: string | null = null;
    while (this.i < this.s.length) {
      const c = this.s[this.i] as string;
      if (quote !== null) {
        if (c === '\\') this.i++;
        else if (c === quote) quote = null;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '[') depth++;
      else if (c === ']') depth--;
      else if (depth === 0 && (/\s/.test(c) || /[=!<>]/.test(c))) break;
      this.i++;
    }
    return this.s.slice(start, this.i);
  }
  rest(): string {
    this.ws();
    const r = this.s.slice(this.i).trim();
    this.i = this.s.length;
    return r;
  }
  /** a string value: a JSON double-quoted string, or the rest of the text verbatim */
  text(): string | { error: string } {
    this.ws();
    if (this.s[this.i] !== '"') return this.rest();
    const start = this.i;
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== '"') {
      if (this.s[this.i] === '\\') this.i++;
      this.i++;
    }
    if (this.i >= this.s.length) return { error: 'unterminated quoted string' };
    this.i++;
    try {
      return JSON.parse(this.s.slice(start, this.i)) as string;
    } catch {
      return { error: 'invalid escape in quoted string' };
    }
  }
}

function num(word: string, suffixes: readonly string[]): number | null {
  let w = word.toLowerCase();
  for (const suf of suffixes) {
    if (w.endsWith(suf) && w.length > suf.length) {
      w = w.slice(0, -suf.length);
      break;
    }
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(w)) return null;
  return Number(w);
}

function expectOp(got: string, allowed: readonly string[], after: string): string | null {
  if (allowed.includes(got)) return null;
  const shown = got === '' ? 'nothing' : `'${got}'`;
  return `expected ${allowed.map((a) => `'${a}'`).join(', ')} after '${after}', got ${shown}`;
}

/** Numbers with an optional unit suffix, either attached (`500ms`) or as a separate word (`500 ms`). */
function numberWithUnit(c: Cursor, units: readonly string[]): number | null {
  const w = c.word();
  const n = num(w, units);
  if (n === null) return null;
  const save = c.i;
  const unit = c.word().toLowerCase();
  if (unit !== '' && !units.includes(unit)) c.i = save;
  return n;
}

const SUBJECTS = ['status', 'response_time', 'header', 'body', 'json', 'cert_expires_in'] as const;

function parseRaw(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const c = new Cursor(text);
  const subject = c.ident().toLowerCase();
  const fail = (error: string) => ({ ok: false as const, error });
  switch (subject) {
    case 'status': {
      const op = c.op();
      const bad = expectOp(op, ['==', '!=', 'in', 'between'], 'status');
      if (bad) return fail(bad);
      if (op === 'in') {
        const rest = c.rest();
        const inner = rest.startsWith('[') && rest.endsWith(']') ? rest.slice(1, -1) : rest;
        const parts = inner.split(/[\s,]+/).filter((p) => p !== '');
        if (parts.length === 0) return fail("expected a list of status codes after 'in', e.g. [200, 204]");
        const values: number[] = [];
        for (const p of parts) {
          const n = num(p, []);
          if (n === null) return fail(`'${p}' is not a status code`);
          values.push(n);
        }
        return { ok: true, value: { type: 'status', op, values } };
      }
      if (op === 'between') {
        const a = c.word();
        const min = num(a, []);
        if (min === null) return fail(`'${a}' is not a status code`);
        const and = c.ident().toLowerCase();
        if (and !== 'and') return fail("expected 'and' in 'status between MIN and MAX'");
        const b = c.word();
        const max = num(b, []);
        if (max === null) return fail(`'${b}' is not a status code`);
        if (!c.eof()) return fail(`unexpected text after the status range: '${c.rest()}'`);
        return { ok: true, value: { type: 'status', op, min, max } };
      }
      const w = c.word();
      const value = num(w, []);
      if (value === null) return fail(`'${w}' is not a status code`);
      if (!c.eof()) return fail(`unexpected text after the status code: '${c.rest()}'`);
      return { ok: true, value: { type: 'status', op, value } };
    }
    case 'response_time': {
      const op = c.op();
      const bad = expectOp(op, ['<', '<='], 'response_time');
      if (bad) return fail(bad);
      const value = numberWithUnit(c, ['ms']);
      if (value === null) return fail('expected a number of milliseconds after the operator');
      if (!c.eof()) return fail(`unexpected text after the time: '${c.rest()}'`);
      return { ok: true, value: { type: 'response_time', op, value } };
    }
    case 'header': {
      const name = c.word();
      if (name === '') return fail("expected a header name after 'header'");
      const op = c.op();
      const bad = expectOp(op, ['==', '!=', 'contains', 'matches'], `header ${name}`);
      if (bad) return fail(bad);
      const value = c.text();
      if (typeof value !== 'string') return fail(value.error);
      if (!c.eof()) return fail(`unexpected text after the quoted value: '${c.rest()}'`);
      return { ok: true, value: { type: 'header', name, op, value } };
    }
    case 'body': {
      const op = c.op();
      const bad = expectOp(op, ['contains', 'matches'], 'body');
      if (bad) return fail(bad);
      const value = c.text();
      if (typeof value !== 'string') return fail(value.error);
      if (!c.eof()) return fail(`unexpected text after the quoted value: '${c.rest()}'`);
      if (value === '') return fail('expected a non-empty value');
      return { ok: true, value: { type: 'body', op, value } };
    }
    case 'json': {
      const path = c.path();
      if (path === '') return fail("expected a JSON path such as $.a.b[0] after 'json'");
      const p = parseJsonPath(path);
      if (!p.ok) return fail(p.error);
      const op = c.op();
      const bad = expectOp(op, ['==', '!=', '>', '>=', '<', '<=', 'exists'], `json ${path}`);
      if (bad) return fail(bad);
      if (op === 'exists') {
        if (!c.eof()) return fail(`unexpected text after 'exists': '${c.rest()}'`);
        return { ok: true, value: { type: 'json', path, op } };
      }
      const rest = c.rest();
      if (rest === '') return fail(`expected a value after '${op}'`);
      if (op === '==' || op === '!=') {
        let value: unknown;
        try {
          value = JSON.parse(rest);
        } catch {
          if (rest.startsWith('"')) return fail('invalid quoted string');
          value = rest;
        }
        return { ok: true, value: { type: 'json', path, op, value } };
      }
      const value = num(rest, []);
      if (value === null) return fail(`'${rest}' is not a number (${op} compares numbers)`);
      return { ok: true, value: { type: 'json', path, op, value } };
    }
    case 'cert_expires_in': {
      const op = c.op();
      const bad = expectOp(op, ['>', '>='], 'cert_expires_in');
      if (bad) return fail(bad);
      const value = numberWithUnit(c, ['days', 'day', 'd']);
      if (value === null) return fail('expected a number of days after the operator');
      if (!c.eof()) return fail(`unexpected text after the number of days: '${c.rest()}'`);
      return { ok: true, value: { type: 'cert_expires_in', op, value } };
    }
    default:
      return fail(
        subject === ''
          ? `expected one of ${SUBJECTS.join(', ')}`
          : `unknown assertion subject '${subject}'; expected one of ${SUBJECTS.join(', ')}`,
      );
  }
}

function zodMessage(err: z.ZodError): string {
  const issue = err.issues[0];
  if (issue === undefined) return 'invalid assertion';
  const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${path}${issue.message}`;
}

/** Parse one assertion from the text syntax (docs/assertions.md). */
export function parseAssertion(text: string): ParseResult {
  if (text.length > MAX_TEXT_VALUE + 256) return { ok: false, error: 'assertion text too long' };
  const raw = parseRaw(text.trim());
  if (!raw.ok) return raw;
  const r = AssertionSchema.safeParse(raw.value);
  if (!r.success) return { ok: false, error: zodMessage(r.error) };
  return { ok: true, assertion: r.data };
}

const q = (s: string): string => JSON.stringify(s);

/** Canonical text for an assertion; `parseAssertion(formatAssertion(a))` gives back `a`. */
export function formatAssertion(a: Assertion): string {
  switch (a.type) {
    case 'status':
      if (a.op === 'in') return `status in [${a.values.join(', ')}]`;
      if (a.op === 'between') return `status between ${a.min} and ${a.max}`;
      return `status ${a.op} ${a.value}`;
    case 'response_time':
      return `response_time ${a.op} ${a.value}`;
    case 'header':
      return `header ${a.name} ${a.op} ${q(a.value)}`;
    case 'body':
      return `body ${a.op} ${q(a.value)}`;
    case 'json': {
      if (a.op === 'exists') return `json ${a.path} exists`;
      return `json ${a.path} ${a.op} ${JSON.stringify(a.value)}`;
    }
    case 'cert_expires_in':
      return `cert_expires_in ${a.op} ${a.value}`;
  }
}

// ---------------------------------------------------------------------------
// Validation of a monitor's assertion list (at creation; 400 naming the bad one).

export interface AssertionValidationError {
  /** 0-based position in the submitted list (-1: the list itself) */
  index: number;
  /** the assertion as submitted (text, or JSON for objects) */
  text: string;
  message: string;
}

export type ValidateResult =
  | { ok: true; assertions: Assertion[] }
  | { ok: false; errors: AssertionValidationError[] };

/**
 * Validate a list whose items are assertion texts (`"status == 200"`) or
 * assertion objects. Returns normalized assertion objects, or one error per
 * offending item naming its index and text.
 */
export function validateAssertions(list: unknown): ValidateResult {
  if (list === undefined || list === null) return { ok: true, assertions: [] };
  if (!Array.isArray(list)) {
    return { ok: false, errors: [{ index: -1, text: '', message: 'assertions must be a list' }] };
  }
  if (list.length > MAX_ASSERTIONS) {
    return {
      ok: false,
      errors: [{ index: -1, text: '', message: `at most ${MAX_ASSERTIONS} assertions per monitor, got ${list.length}` }],
    };
  }
  const assertions: Assertion[] = [];
  const errors: AssertionValidationError[] = [];
  list.forEach((item: unknown, index) => {
    if (typeof item === 'string') {
      const r = parseAssertion(item);
      if (r.ok) assertions.push(r.assertion);
      else errors.push({ index, text: item, message: r.error });
      return;
    }
    if (item !== null && typeof item === 'object') {
      const r = AssertionSchema.safeParse(item);
      if (r.success) assertions.push(r.data);
      else errors.push({ index, text: safeJson(item), message: zodMessage(r.error) });
      return;
    }
    errors.push({ index, text: safeJson(item), message: 'an assertion must be a string or an object' });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, assertions };
}

/** One line per error, e.g. `assertions[1] "status = 200": expected '==', …`. */
export function describeAssertionErrors(errors: readonly AssertionValidationError[]): string {
  return errors
    .map((e) => (e.index < 0 ? `assertions: ${e.message}` : `assertions[${e.index}] ${q(e.text)}: ${e.message}`))
    .join('; ');
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

// ---------------------------------------------------------------------------
// Evaluation in the agent.

/** What a check observed; fields a check type cannot observe are null/absent. */
export interface Observation {
  status_code?: number | null;
  response_time_ms?: number | null;
  /** lower-case header names (node's IncomingHttpHeaders shape) */
  headers?: Readonly<Record<string, string | string[] | undefined>> | null;
  body?: string | null;
  /** pre-parsed JSON document (for dns: the record list); when absent, body is parsed */
  json?: unknown;
  cert_days_remaining?: number | null;
}

const MAX_ACTUAL = 200;

function truncate(s: string): string {
  return s.length > MAX_ACTUAL ? `${s.slice(0, MAX_ACTUAL)}…` : s;
}

function render(v: unknown): AssertionActual {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string') return truncate(v);
  return truncate(safeJson(v));
}

function headerValue(h: Observation['headers'], name: string): string | null {
  if (!h) return null;
  const v = h[name];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as never)[k], (b as never)[k]));
}

const NO_JSON = Symbol('no-json');

const pathCache = new Map<string, JsonPathSegment[] | null>();
function pathSegments(path: string): JsonPathSegment[] | null {
  let segs = pathCache.get(path);
  if (segs === undefined) {
    const r = parseJsonPath(path);
    segs = r.ok ? r.segments : null;
    if (pathCache.size >= 1024) pathCache.clear();
    pathCache.set(path, segs);
  }
  return segs;
}

/** Whether any assertion needs the response body (so executors buffer it only then). */
export function needsBody(list: readonly Assertion[]): boolean {
  return list.some((a) => a.type === 'body' || a.type === 'json');
}

/** Whether any assertion needs the peer certificate. */
export function needsCert(list: readonly Assertion[]): boolean {
  return list.some((a) => a.type === 'cert_expires_in');
}

/** Evaluate every assertion against an observation; one outcome per assertion, in order. */
export function evaluateAssertions(list: readonly Assertion[], obs: Observation): AssertionOutcome[] {
  let json: unknown = NO_JSON;
  let jsonError: string | undefined;
  const doc = (): unknown => {
    if (json !== NO_JSON) return json;
    if (obs.json !== undefined) json = obs.json;
    else if (obs.body === null || obs.body === undefined) {
      json = undefined;
      jsonError = 'no response body';
    } else {
      try {
        json = JSON.parse(obs.body);
      } catch {
        json = undefined;
        jsonError = 'response body is not valid JSON';
      }
    }
    return json;
  };

  const out: AssertionOutcome[] = new Array<AssertionOutcome>(list.length);
  for (let i = 0; i < list.length; i++) {
    const a = list[i] as Assertion;
    const text = formatAssertion(a);
    let passed = false;
    let actual: AssertionActual = null;
    let error: string | undefined;
    switch (a.type) {
      case 'status': {
        const code = obs.status_code ?? null;
        actual = code;
        if (code === null) error = 'no HTTP status';
        else if (a.op === 'in') passed = a.values.includes(code);
        else if (a.op === 'between') passed = code >= a.min && code <= a.max;
        else passed = a.op === '==' ? code === a.value : code !== a.value;
        break;
      }
      case 'response_time': {
        const t = obs.response_time_ms ?? null;
        actual = t === null ? null : Math.round(t * 1000) / 1000;
        if (t === null) error = 'no response time';
        else passed = a.op === '<' ? t < a.value : t <= a.value;
        break;
      }
      case 'header': {
        const v = headerValue(obs.headers, a.name);
        actual = v === null ? null : truncate(v);
        if (v === null) {
          passed = a.op === '!=';
          if (!passed) error = `no '${a.name}' header`;
        } else if (a.op === '==') passed = v === a.value;
        else if (a.op === '!=') passed = v !== a.value;
        else if (a.op === 'contains') passed = v.includes(a.value);
        else passed = compiled(a.value).test(v);
        break;
      }
      case 'body': {
        const b = obs.body ?? null;
        if (b === null) {
          error = 'no response body';
          break;
        }
        if (a.op === 'contains') {
          passed = b.includes(a.value);
          actual = passed ? truncate(a.value) : truncate(b);
        } else {
          const m = compiled(a.value).exec(b);
          passed = m !== null;
          actual = m !== null ? truncate(m[0]) : truncate(b);
        }
        break;
      }
      case 'json': {
        const d = doc();
        if (jsonError !== undefined) {
          error = jsonError;
          break;
        }
        const segments = pathSegments(a.path);
        if (segments === null) {
          error = `invalid JSON path ${a.path}`;
          break;
        }
        const hit = selectJsonPath(d, segments);
        actual = hit.found ? render(hit.value) : null;
        if (!hit.found) {
          if (a.op === '!=') passed = true;
          else error = `${a.path} not found`;
          break;
        }
        const v = hit.value;
        switch (a.op) {
          case 'exists':
            passed = true;
            break;
          case '==':
            passed = jsonEqual(v, a.value);
            break;
          case '!=':
            passed = !jsonEqual(v, a.value);
            break;
          default:
            if (typeof v !== 'number') error = `${a.path} is not a number`;
            else if (a.op === '>') passed = v > a.value;
            else if (a.op === '>=') passed = v >= a.value;
            else if (a.op === '<') passed = v < a.value;
            else passed = v <= a.value;
        }
        break;
      }
      case 'cert_expires_in': {
        const d = obs.cert_days_remaining ?? null;
        actual = d === null ? null : Math.floor(d * 100) / 100;
        if (d === null) error = 'no TLS certificate';
        else passed = a.op === '>' ? d > a.value : d >= a.value;
        break;
      }
    }
    out[i] = error === undefined ? { assertion: text, passed, actual } : { assertion: text, passed, actual, error };
  }
  return out;
}
