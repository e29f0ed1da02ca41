/**
 * What a check does: the monitor fields a worker needs to run one check. The fields every type shares
 * (type, url, method, headers, body, timeout_ms) are defined here; each type adds its `options` fields in its
 * own folder, and registry.ts builds the one schema (checkSpecSchema()) that validates a spec at monitor
 * creation and again when a job reaches the agent. Pure: no I/O.
 */
import { z } from 'zod';
import type { CheckTypeDefinition } from './definition.js';
import { RuleOverrideSchema } from '../alerts/rules.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const DEFAULT_TIMEOUT_MS = 10_000;
export const MAX_TIMEOUT_MS = 120_000;
export const MAX_REQUEST_BODY = 64 * 1024;

const HeaderNameRe = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** A validated check; `options` holds every registered type's option fields, with their defaults. */
export interface CheckSpec<O = Record<string, unknown>> {
  type: string;
  url: string;
  method: HttpMethod;
  headers: Record<string, string>;
  body: string;
  timeout_ms: number;
  options: O;
}

/** A check as a caller writes it (defaults filled in by the schema). */
export interface CheckSpecInput {
  type?: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeout_ms?: number;
  options?: Record<string, unknown>;
}

export type CheckSpecSchemaType = z.ZodType<CheckSpec, CheckSpecInput>;

/** Parses `url` and resolves it with the definition's target; throws an Error saying what is wrong. */
export function targetOf(def: CheckTypeDefinition | undefined, type: string, url: string): { type: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`not a valid URL: ${url}`);
  }
  if (def === undefined) throw new Error(`unknown check type ${type}`);
  return def.target(u);
}

/**
 * The spec schema for a set of check types: `type` one of their names (default http), `options` the strict
 * union of their option fields. The URL must resolve to a target of the chosen type.
 */
export function buildCheckSpecSchema(defs: readonly CheckTypeDefinition[]): CheckSpecSchemaType {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const names = defs.map((d) => d.name);
  // `alerts`: the monitor's own alert rule (monitoring/alerts/rules.ts), the same for every check type.
  const Options = z.strictObject(Object.assign({ alerts: RuleOverrideSchema.optional() }, ...defs.map((d) => d.options)) as z.ZodRawShape);
  const schema = z
    .strictObject({
      type: z.enum(names as [string, ...string[]]).default('http'),
      url: z.string().min(1).max(2048),
      method: z
        .string()
        .transform((m) => m.toUpperCase())
        .pipe(z.enum(HTTP_METHODS))
        .default('GET'),
      headers: z
        .record(z.string().regex(HeaderNameRe, 'not a valid HTTP header name'), z.string().max(8192).regex(/^[^\r\n]*$/, 'header values cannot contain line breaks'))
        .default({}),
      body: z.string().max(MAX_REQUEST_BODY).default(''),
      timeout_ms: z.number().int().min(1).max(MAX_TIMEOUT_MS).default(DEFAULT_TIMEOUT_MS),
      options: Options.default(() => Options.parse({})),
    })
    .superRefine((spec, ctx) => {
      try {
        targetOf(byName.get(spec.type), spec.type, spec.url);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['url'], message: (e as Error).message });
      }
    });
  return schema as unknown as CheckSpecSchemaType;
}
