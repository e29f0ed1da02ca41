/**
 * Monitor assertions: the model (schema.ts, zod, one schema per kind), the text syntax used by the
 * CLI (parse.ts; `status == 200`, `json $.a.b[0] > 3`, …; see docs/assertions.md), validation at
 * monitor creation (validate.ts), and evaluation in the agent (evaluate.ts).
 *
 * Pure: no I/O. Shared by the server (validation) and the agent (evaluation).
 */
export {
  MAX_ASSERTIONS,
  StatusAssertionSchema,
  ResponseTimeAssertionSchema,
  HeaderAssertionSchema,
  BodyAssertionSchema,
  JsonAssertionSchema,
  CertExpiryAssertionSchema,
  AssertionSchema,
  AssertionActualSchema,
  AssertionOutcomeSchema,
} from './schema.js';
export type { Assertion, AssertionInput, AssertionActual, AssertionOutcome } from './schema.js';
export { parseAssertion, formatAssertion } from './parse.js';
export type { ParseResult } from './parse.js';
export { validateAssertions, describeAssertionErrors } from './validate.js';
export type { AssertionValidationError, ValidateResult } from './validate.js';
export { needsBody, needsCert, evaluateAssertions } from './evaluate.js';
export type { Observation } from './evaluate.js';
