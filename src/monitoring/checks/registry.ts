/**
 * The check types this build knows. Adding a type is adding its folder (spec, probe, index.ts exporting one
 * CheckTypeDefinition) and one line to BUILTIN_CHECK_TYPES; the spec schema, the runner, the worker's
 * capabilities and the web API's validation all read this registry.
 */
import type { CheckTypeDefinition } from './definition.js';
import { dnsCheck } from './dns/index.js';
import { httpCheck } from './http/index.js';
import { buildCheckSpecSchema, targetOf } from './spec.js';
import type { CheckSpecSchemaType } from './spec.js';
import { tcpCheck } from './tcp/index.js';
import { tlsCheck } from './tls/index.js';

export type { CheckTypeDefinition } from './definition.js';

/** The registry lines, in the order their option fields appear in a spec. */
const BUILTIN_CHECK_TYPES = [httpCheck, tcpCheck, dnsCheck, tlsCheck] as const;

/** The name of a built-in check type ('http' | 'tcp' | 'dns' | 'tls'). */
export type CheckType = (typeof BUILTIN_CHECK_TYPES)[number]['name'];

const types = new Map<string, CheckTypeDefinition>(BUILTIN_CHECK_TYPES.map((d) => [d.name, d]));
let schema: CheckSpecSchemaType | null = null;

/** The definition of a check type, or undefined for a name the registry does not hold. */
export function checkType(name: string): CheckTypeDefinition | undefined {
  return types.get(name);
}

/**
 * The type whose schemes include the URL's scheme (`tcp://…` → tcp), or undefined for an unparsable URL or
 * a scheme no type takes. Used when a monitor is created without a type.
 */
export function checkTypeForUrl(url: string): string | undefined {
  let scheme: string;
  try {
    scheme = new URL(url).protocol.replace(/:$/, '');
  } catch {
    return undefined;
  }
  for (const def of types.values()) if (def.schemes.includes(scheme)) return def.name;
  return undefined;
}

/** Every registered type name, in registration order (what a worker declares it can run). */
export function checkTypeNames(): string[] {
  return [...types.keys()];
}

/**
 * Registers one more check type (plugins, tests); returns the undo. A name already registered is refused,
 * so a built-in type cannot be replaced by accident.
 */
export function registerCheckType(def: CheckTypeDefinition): () => void {
  if (types.has(def.name)) throw new Error(`check type ${def.name} is already registered`);
  types.set(def.name, def);
  schema = null;
  return () => {
    if (types.get(def.name) !== def) return;
    types.delete(def.name);
    schema = null;
  };
}

/** The schema that validates a check spec against the registered types (rebuilt after a registration). */
export function checkSpecSchema(): CheckSpecSchemaType {
  schema ??= buildCheckSpecSchema([...types.values()]);
  return schema;
}

/** Resolve the URL of a spec into what its probe connects to; throws on a malformed target or unknown type. */
export function checkTarget(type: string, url: string): { type: string } {
  return targetOf(types.get(type), type, url);
}
