/**
 * What one check type is: its name, the URL schemes it takes, the assertion subjects its probe can produce,
 * the option fields it adds to a monitor's `options` (zod, with defaults), how its URL becomes the target its
 * probe connects to, and the probe. Each type's folder exports one definition; registry.ts lists them.
 */
import type { z } from 'zod';
import type { Assertion } from '../assertions/index.js';
import type { ErrorClass } from '../domain/result.js';
import type { CheckSpec } from './spec.js';
import type { ProbeOptions, ProbeOutcome } from './types.js';

/** What an assertion reads (`status`, `response_time`, `header`, `body`, `json`, `cert_expires_in`). */
export type AssertionSubject = Assertion['type'];

/** The definition as the registry and the runner see it: option and target types erased. */
export interface CheckTypeDefinition {
  readonly name: string;
  /** URL schemes (without the colon) this type takes; a monitor without a type gets the type of its URL's scheme. */
  readonly schemes: readonly string[];
  /** The assertion subjects this type's observation carries; an assertion on any other is refused at creation. */
  readonly assertionSubjects: readonly AssertionSubject[];
  /** The `options` fields this type reads, with their defaults (merged with every other type's into one schema). */
  readonly options: z.ZodRawShape;
  /** Error class of a result whose URL does not resolve to a target (the probe never ran). */
  readonly targetErrorClass: ErrorClass;
  /** A status code outside 200–399 makes the check down unless an assertion checks the status (http). */
  readonly statusDecides: boolean;
  /** The URL → what the probe connects to (`type` included); throws an Error saying what is wrong. */
  target(url: URL): { type: string };
  /** Runs the probe; resolves (never rejects) with what it measured. */
  probe(spec: CheckSpec, target: { type: string }, opts: ProbeOptions): Promise<ProbeOutcome>;
}

/** A definition with its own option and target types, as a type's folder writes it. */
export interface TypedCheckTypeDefinition<S extends z.ZodRawShape, T extends { type: string }> {
  readonly name: string;
  readonly schemes: readonly string[];
  readonly assertionSubjects: readonly AssertionSubject[];
  readonly options: S;
  readonly targetErrorClass: ErrorClass;
  readonly statusDecides?: boolean;
  target(url: URL): T;
  probe(spec: CheckSpec<z.output<z.ZodObject<S>>>, target: T, opts: ProbeOptions): Promise<ProbeOutcome>;
}

/**
 * Erases a typed definition for the registry. The casts are sound because the runner passes a probe only
 * the spec validated by the merged schema (which contains this type's option fields) and the target that
 * this definition's own `target` returned.
 */
export function defineCheckType<S extends z.ZodRawShape, T extends { type: string }>(def: TypedCheckTypeDefinition<S, T>): CheckTypeDefinition {
  return {
    name: def.name,
    schemes: def.schemes,
    assertionSubjects: def.assertionSubjects,
    options: def.options,
    targetErrorClass: def.targetErrorClass,
    statusDecides: def.statusDecides ?? false,
    target: (url) => def.target(url),
    probe: (spec, target, opts) => def.probe(spec as CheckSpec<z.output<z.ZodObject<S>>>, target as T, opts),
  };
}

/** The host of a URL without the brackets of an IPv6 literal. */
export function urlHost(u: URL): string {
  const h = u.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** A port 1–65535. */
export function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
