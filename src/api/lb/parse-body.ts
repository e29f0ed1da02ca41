/** Validation of a load-balancer API body against its wire schema (wire.ts), as a 400 on failure. */
import type { z } from 'zod';
import { HttpError } from '../../http/errors.js';

function present(input: unknown, path: readonly PropertyKey[]): boolean {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return false;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur !== undefined;
}

/** Validates a parsed body, turning the first zod issue into 400 `{"error", "field"}`. */
export function parseBody<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path === '' ? 'body' : path;
  let message = issue?.message ?? 'invalid body';
  if (path === '' && (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input))) {
    message = 'request body must be a JSON object';
  } else if (issue?.code === 'invalid_type' && !present(input, issue.path)) {
    message = 'is required';
  }
  throw new HttpError(400, `${field}: ${message}`, { field });
}
