/** Validation of a monitor's assertion list (at creation; 400 naming the bad one). Pure: no I/O. */
import { parseAssertion } from './parse.js';
import { AssertionSchema, MAX_ASSERTIONS, safeJson, zodMessage } from './schema.js';
import type { Assertion } from './schema.js';

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
    .map((e) => (e.index < 0 ? `assertions: ${e.message}` : `assertions[${e.index}] ${JSON.stringify(e.text)}: ${e.message}`))
    .join('; ');
}
