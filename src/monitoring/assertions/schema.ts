/**
 * The assertion model: one zod schema per kind (status, response_time, header, body, json,
 * cert_expires_in), the outcome shape, and the error text shared by parse and validate.
 * Pure: no I/O.
 */
import { z } from 'zod';
import { formatJsonPath, parseJsonPath } from './jsonpath.js';
import { regexError } from './regex.js';

export const MAX_ASSERTIONS = 50;
export const MAX_TEXT_VALUE = 4096;
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

/** The first issue of a schema error, prefixed with its path. */
export function zodMessage(err: z.ZodError): string {
  const issue = err.issues[0];
  if (issue === undefined) return 'invalid assertion';
  const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${path}${issue.message}`;
}

/** JSON text of a submitted value, for error messages (String() when it does not serialise). */
export function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
