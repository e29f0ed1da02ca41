/**
 * Monitor assertions: the model (schema.ts, zod, one schema per kind), the text syntax used by the
 * CLI (parse.ts; `status == 200`, `json $.a.b[0] > 3`, …; see docs/assertions.md), validation at
 * monitor creation (validate.ts), and evaluation in the agent (evaluate.ts).
 *
 * Pure: no I/O. Shared by the server (validation) and the agent (evaluation).
 */
// The zod model: one schema per kind, their union, and the outcome shape.
export { MAX_ASSERTIONS, AssertionSchema, AssertionActualSchema, AssertionOutcomeSchema } from './schema.js';
export { StatusAssertionSchema, ResponseTimeAssertionSchema, HeaderAssertionSchema } from './schema.js';
export { BodyAssertionSchema, JsonAssertionSchema, CertExpiryAssertionSchema } from './schema.js';
export type { Assertion, AssertionInput, AssertionActual, AssertionOutcome } from './schema.js';
export { parseAssertion, formatAssertion } from './parse.js';
export type { ParseResult } from './parse.js';
export { validateAssertions, describeAssertionErrors } from './validate.js';
export type { AssertionValidationError, ValidateResult } from './validate.js';
export { needsBody, needsCert, evaluateAssertions } from './evaluate.js';
export type { Observation } from './evaluate.js';
