import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AssertionSchema,
  describeAssertionErrors,
  evaluateAssertions,
  formatAssertion,
  parseAssertion,
  validateAssertions,
} from '../../src/monitoring/assertions/index.js';
import type { Assertion, Observation } from '../../src/monitoring/assertions/index.js';

function parse(text: string): Assertion {
  const r = parseAssertion(text);
  if (!r.ok) throw new Error(`${text}: ${r.error}`);
  return r.assertion;
}

function evalOne(text: string, obs: Observation) {
  const [out] = evaluateAssertions([parse(text)], obs);
  if (!out) throw new Error('no outcome');
  return out;
}

const json = JSON.stringify({ status: 'ok', a: { b: [3, 4], 'x y': true }, n: 5, s: '12', nul: null, list: [] });
const obs: Observation = {
  status_code: 200,
  response_time_ms: 120.5,
  headers: { 'content-type': 'application/json; charset=utf-8', 'set-cookie': ['a=1', 'b=2'] },
  body: json,
  cert_days_remaining: 20.5,
};

describe('parseAssertion: the text syntax', () => {
  it.each([
    ['status == 200', { type: 'status', op: '==', value: 200 }],
    ['status==200', { type: 'status', op: '==', value: 200 }],
    ['status != 500', { type: 'status', op: '!=', value: 500 }],
    ['status in [200,204]', { type: 'status', op: 'in', values: [200, 204] }],
    ['status in [200, 204, 301]', { type: 'status', op: 'in', values: [200, 204, 301] }],
    ['status between 200 and 299', { type: 'status', op: 'between', min: 200, max: 299 }],
    ['response_time < 500', { type: 'response_time', op: '<', value: 500 }],
    ['response_time <= 500ms', { type: 'response_time', op: '<=', value: 500 }],
    ['response_time < 250 ms', { type: 'response_time', op: '<', value: 250 }],
    ['header Content-Type contains json', { type: 'header', name: 'content-type', op: 'contains', value: 'json' }],
    ['header x-a == "b c"', { type: 'header', name: 'x-a', op: '==', value: 'b c' }],
    ['header server matches "^nginx/1\\\\."', { type: 'header', name: 'server', op: 'matches', value: '^nginx/1\\.' }],
    ['body contains hello world', { type: 'body', op: 'contains', value: 'hello world' }],
    ['body matches "ok.*"', { type: 'body', op: 'matches', value: 'ok.*' }],
    ['body matches (?i)OK', { type: 'body', op: 'matches', value: '(?i)OK' }],
    ['json $.a.b[0] == 3', { type: 'json', path: '$.a.b[0]', op: '==', value: 3 }],
    ['json $.status == "ok"', { type: 'json', path: '$.status', op: '==', value: 'ok' }],
    ['json $.status == ok', { type: 'json', path: '$.status', op: '==', value: 'ok' }],
    ['json $.a == {"b":[3,4]}', { type: 'json', path: '$.a', op: '==', value: { b: [3, 4] } }],
    ["json $['a'].b[-1]>=4", { type: 'json', path: '$.a.b[-1]', op: '>=', value: 4 }],
    ['json $.n < 10', { type: 'json', path: '$.n', op: '<', value: 10 }],
    ['json $.x exists', { type: 'json', path: '$.x', op: 'exists' }],
    ['cert_expires_in > 14', { type: 'cert_expires_in', op: '>', value: 14 }],
    ['cert_expires_in >= 7 days', { type: 'cert_expires_in', op: '>=', value: 7 }],
    ['  STATUS   ==   201  ', { type: 'status', op: '==', value: 201 }],
  ])('%s', (text, expected) => {
    expect(parseAssertion(text)).toEqual({ ok: true, assertion: expected });
  });

  it.each([
    ['', /expected one of/],
    ['latency < 5', /unknown assertion subject 'latency'/],
    ['status = 200', /expected '==', '!=', 'in', 'between' after 'status', got '='/],
    ['status == abc', /'abc' is not a status code/],
    ['status == 200 300', /unexpected text/],
    ['status == 99', /too small|>=100/],
    ['status == 600', /too big|<=599/],
    ['status == 200.5', /int/i],
    ['status in []', /list of status codes/],
    ['status between 300 and 200', /min must not exceed max/],
    ['status between 200 299', /'and'/],
    ['response_time > 500', /expected '<', '<='/],
    ['response_time < fast', /number of milliseconds/],
    ['response_time < 0', /too small|>0/],
    ['header == x', /expected '==', '!=', 'contains', 'matches' after 'header =='/],
    ['header bad:name == x', /header name/],
    ['body equals x', /expected 'contains', 'matches'/],
    ['body contains', /non-empty|expected/],
    ['body matches "(unclosed"', /invalid regular expression/],
    ['body contains "unterminated', /unterminated/],
    ['json a.b == 1', /must start with '\$'/],
    ['json $.a[ == 1', /expected/],
    ['json $.a > big', /'big' is not a number/],
    ['json $.a exists now', /unexpected text/],
    ['json $.a ==', /expected a value/],
    ['cert_expires_in < 5', /expected '>', '>='/],
    ['cert_expires_in > soon', /number of days/],
  ])('rejects %j', (text, message) => {
    const r = parseAssertion(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe('formatAssertion', () => {
  it('produces canonical text that parses back to the same assertion', () => {
    for (const text of [
      'status == 200',
      'status in [200, 204]',
      'status between 200 and 299',
      'response_time < 500',
      'header content-type contains "json"',
      'body matches "ok.*"',
      'json $.a.b[0] == 3',
      "json $['x y'] exists",
      'cert_expires_in > 14',
    ]) {
      expect(formatAssertion(parse(text))).toBe(text);
    }
  });

  it('round-trips arbitrary valid assertions (property)', () => {
    const code = fc.integer({ min: 100, max: 599 });
    const text = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s);
    const key = fc.oneof(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), fc.string({ minLength: 1, maxLength: 6 }));
    const seg = fc.oneof(key, fc.integer({ min: -3, max: 20 }));
    const path = fc.array(seg, { maxLength: 4 }).map((segs) =>
      segs.map((s) => (typeof s === 'number' ? `[${s}]` : `['${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`)).join(''),
    );
    // Assertions travel as JSON, which has no -0 (anywhere inside a value): compare canonical JSON values.
    const jsonValue = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    const arb: fc.Arbitrary<unknown> = fc.oneof(
      fc.record({ type: fc.constant('status'), op: fc.constantFrom('==', '!='), value: code }),
      fc.record({ type: fc.constant('status'), op: fc.constant('in'), values: fc.array(code, { minLength: 1, maxLength: 5 }) }),
      fc.tuple(code, code).map(([a, b]) => ({ type: 'status', op: 'between', min: Math.min(a, b), max: Math.max(a, b) })),
      fc.record({ type: fc.constant('response_time'), op: fc.constantFrom('<', '<='), value: fc.integer({ min: 1, max: 600_000 }) }),
      fc.record({ type: fc.constant('header'), name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), op: fc.constantFrom('==', '!=', 'contains'), value: text }),
      fc.record({ type: fc.constant('body'), op: fc.constant('contains'), value: text }),
      fc.record({ type: fc.constant('json'), path: path.map((p) => `$${p}`), op: fc.constant('exists') }),
      fc.record({ type: fc.constant('json'), path: path.map((p) => `$${p}`), op: fc.constantFrom('==', '!='), value: jsonValue }),
      fc.record({ type: fc.constant('json'), path: path.map((p) => `$${p}`), op: fc.constantFrom('<', '>', '<=', '>='), value: fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0)) }),
      fc.record({ type: fc.constant('cert_expires_in'), op: fc.constantFrom('>', '>='), value: fc.integer({ min: 0, max: 3650 }) }),
    );
    fc.assert(
      fc.property(arb, (raw) => {
        const a = AssertionSchema.parse(raw);
        const text = formatAssertion(a);
        const back = parseAssertion(text);
        expect(back).toEqual({ ok: true, assertion: a });
      }),
      { numRuns: 500 },
    );
  });
});

describe('validateAssertions', () => {
  it('accepts texts and objects and normalizes them', () => {
    const r = validateAssertions(['status == 200', { type: 'header', name: 'X-Id', op: '==', value: '1' }]);
    expect(r).toEqual({
      ok: true,
      assertions: [
        { type: 'status', op: '==', value: 200 },
        { type: 'header', name: 'x-id', op: '==', value: '1' },
      ],
    });
    expect(validateAssertions(undefined)).toEqual({ ok: true, assertions: [] });
    expect(validateAssertions([])).toEqual({ ok: true, assertions: [] });
  });

  it('names every offending assertion by index and text', () => {
    const r = validateAssertions(['status == 200', 'status = 200', { type: 'json', path: 'nope', op: 'exists' }, 42, { type: 'status', op: '==', value: 200, extra: 1 }]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.index, e.text])).toEqual([
      [1, 'status = 200'],
      [2, '{"type":"json","path":"nope","op":"exists"}'],
      [3, '42'],
      [4, '{"type":"status","op":"==","value":200,"extra":1}'],
    ]);
    expect(r.errors[1]?.message).toMatch(/path: JSON path must start with '\$'/);
    expect(r.errors[3]?.message).toMatch(/extra/);
    const text = describeAssertionErrors(r.errors);
    expect(text).toContain('assertions[1] "status = 200": expected');
  });

  it('rejects a non-list and too many assertions', () => {
    expect(validateAssertions('status == 200')).toMatchObject({ ok: false, errors: [{ index: -1 }] });
    const many = validateAssertions(new Array(51).fill('status == 200'));
    expect(many.ok).toBe(false);
  });
});

describe('evaluateAssertions: every operator passes and fails', () => {
  it.each([
    ['status == 200', true, 200],
    ['status == 201', false, 200],
    ['status != 500', true, 200],
    ['status != 200', false, 200],
    ['status in [200, 204]', true, 200],
    ['status in [301, 302]', false, 200],
    ['status between 200 and 299', true, 200],
    ['status between 300 and 399', false, 200],
    ['response_time < 500', true, 120.5],
    ['response_time < 100', false, 120.5],
    ['response_time <= 120.5', true, 120.5],
    ['response_time <= 120', false, 120.5],
    ['header content-type == "application/json; charset=utf-8"', true, 'application/json; charset=utf-8'],
    ['header content-type == "application/json"', false, 'application/json; charset=utf-8'],
    ['header content-type != "text/html"', true, 'application/json; charset=utf-8'],
    ['header content-type != "application/json; charset=utf-8"', false, 'application/json; charset=utf-8'],
    ['header Content-Type contains json', true, 'application/json; charset=utf-8'],
    ['header content-type contains xml', false, 'application/json; charset=utf-8'],
    ['header content-type matches "^application/.*utf-8$"', true, 'application/json; charset=utf-8'],
    ['header content-type matches "^text/"', false, 'application/json; charset=utf-8'],
    ['header set-cookie contains "b=2"', true, 'a=1, b=2'],
    ['header x-missing == "x"', false, null],
    ['header x-missing != "x"', true, null],
    ['body contains "ok"', true, 'ok'],
    ['body contains "error"', false, json],
    ['body matches "\\"n\\":\\\\d+"', true, '"n":5'],
    ['body matches "^<html"', false, json],
    ['body matches "(?i)STATUS"', true, 'status'],
    ['json $.a.b[0] == 3', true, 3],
    ['json $.a.b[0] == 4', false, 3],
    ['json $.status == "ok"', true, 'ok'],
    ['json $.s == 12', false, '12'],
    ['json $.a.b == [3,4]', true, '[3,4]'],
    ['json $.nul == null', true, null],
    ['json $.status != "down"', true, 'ok'],
    ['json $.status != "ok"', false, 'ok'],
    ['json $.n > 4', true, 5],
    ['json $.n > 5', false, 5],
    ['json $.n >= 5', true, 5],
    ['json $.n < 6', true, 5],
    ['json $.n < 5', false, 5],
    ['json $.n <= 4', false, 5],
    ['json $.a.b[-1] == 4', true, 4],
    ['json $.s > 1', false, '12'],
    ["json $.a['x y'] exists", true, true],
    ['json $.list exists', true, '[]'],
    ['json $.missing exists', false, null],
    ['json $.a.b[9] exists', false, null],
    ['json $.missing != 1', true, null],
    ['cert_expires_in > 14', true, 20.5],
    ['cert_expires_in > 30', false, 20.5],
    ['cert_expires_in >= 20.5', true, 20.5],
  ])('%s → %s', (text, passed, actual) => {
    const out = evalOne(text, obs);
    expect(out.passed).toBe(passed);
    expect(out.actual).toEqual(actual);
    expect(out.assertion).toBe(formatAssertion(parse(text)));
  });

  it('fails every assertion with actual null when nothing was observed', () => {
    const list = validateAssertions([
      'status == 200',
      'response_time < 1',
      'header a == b',
      'body contains x',
      'json $.a exists',
      'cert_expires_in > 1',
    ]);
    if (!list.ok) throw new Error('invalid');
    const outs = evaluateAssertions(list.assertions, {});
    expect(outs.map((o) => o.passed)).toEqual([false, false, false, false, false, false]);
    expect(outs.every((o) => o.actual === null && typeof o.error === 'string')).toBe(true);
  });

  it('reports a non-JSON body and a non-numeric comparison as errors', () => {
    expect(evalOne('json $.a exists', { body: 'not json' })).toMatchObject({ passed: false, error: 'response body is not valid JSON' });
    expect(evalOne('json $.s > 1', obs)).toMatchObject({ passed: false, error: '$.s is not a number' });
  });

  it('uses a pre-parsed JSON document when given', () => {
    expect(evalOne('json $[0] == "1.2.3.4"', { json: ['1.2.3.4'], body: 'ignored' }).passed).toBe(true);
  });

  it('truncates long actual values', () => {
    const out = evalOne('body contains "zzz"', { body: 'x'.repeat(10_000) });
    expect(out.passed).toBe(false);
    expect(typeof out.actual === 'string' && out.actual.length).toBeLessThanOrEqual(201);
  });
});
