/**
 * The assertion text syntax used by the CLI (`status == 200`, `json $.a.b[0] > 3`, …; see
 * docs/assertions.md): parse text into an assertion, and format one back. Pure: no I/O.
 */
import { parseJsonPath } from './jsonpath.js';
import { AssertionSchema, MAX_TEXT_VALUE, zodMessage } from './schema.js';
import type { Assertion } from './schema.js';

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
