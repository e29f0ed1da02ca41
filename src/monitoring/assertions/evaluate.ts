/** Evaluation of assertions against what a check observed, in the agent. Pure: no I/O. */
import { parseJsonPath, selectJsonPath } from './jsonpath.js';
import type { JsonPathSegment } from './jsonpath.js';
import { formatAssertion } from './parse.js';
import { compiled } from './regex.js';
import { safeJson } from './schema.js';
import type { Assertion, AssertionActual, AssertionOutcome } from './schema.js';

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
