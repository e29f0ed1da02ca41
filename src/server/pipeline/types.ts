import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/** A management-API handler. It writes the response (or throws an HttpError). */
export type Handler = (ctx: RequestContext) => void | Promise<void>;

/** How a management route takes its request body. */
export type BodyKind =
  /** Read (within max_request_body_bytes) and parsed as JSON into ctx.json. */
  | 'json'
  /** No body expected; whatever is sent is read and discarded within the limit. */
  | 'none'
  /** The handler reads the raw stream itself (e.g. the Connect web API). */
  | 'stream';

export interface ManagementRoute {
  /** Stable name for logs and metrics labels, e.g. "/route". */
  name: string;
  /** Handlers by HTTP method; any other method answers 405 with an Allow header. */
  methods: Readonly<Record<string, Handler>>;
  /** false only for /health. */
  auth: boolean;
  body: BodyKind;
}

/** Per-request state passed along the pipeline. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  /** URL path without the query string. */
  readonly path: string;
  /** Raw query string without "?" ('' when none). */
  readonly search: string;
  /** performance.now() (ms) when the request arrived. */
  readonly startMs: number;
  readonly route: ManagementRoute;
  /** The route's handler for this method (undefined ⇒ 405). */
  readonly handler: Handler | undefined;
  /** Peer address (the allow-list / rate-limit stages may replace it with a trusted X-Forwarded-For hop). */
  ip: string;
  /** Raw body once read by the body-limit stage (null when none was read). */
  body: Buffer | null;
  /** Parsed JSON body (undefined when the body was empty). */
  json: unknown;
  /** Which key authenticated the request, once the API-key stage has run ('none' when no keys are configured). */
  auth: 'none' | 'server' | 'api';
  /** Set by the request-log stage: the dispatcher logs the finished request with it. */
  requestLogger?: Logger;
  /** Set by the timeout stage: the dispatcher takes the request out of it when its response closes. */
  deadlines?: { delete(ctx: RequestContext): unknown };
}

export type Next = () => Promise<void>;
/** One pipeline step: do its check, then `await next()` (or throw an HttpError / answer and not call next). */
export type Stage = (ctx: RequestContext, next: Next) => Promise<void>;

/** A settled promise shared by every synchronous step (no allocation per request). */
export const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Chains stages into one function; `final` runs after the last stage. Null entries (empty slots) are skipped.
 * The chain itself adds no promise per step: a synchronous stage or handler costs a plain call, and a
 * synchronous throw anywhere becomes a rejection the outer stages (crash containment) see.
 */
export function compose(
  stages: ReadonlyArray<Stage | null | undefined>,
  final: (ctx: RequestContext) => void | Promise<void>,
): (ctx: RequestContext) => Promise<void> {
  const list = stages.filter((s): s is Stage => typeof s === 'function');
  const n = list.length;
  return (ctx) => {
    // One `next` per request (not one per stage): each stage calls it at most once, in order.
    let i = 0;
    const next = (): Promise<void> => {
      try {
        if (i < n) return list[i++]!(ctx, next);
        if (i++ > n) return Promise.reject(new Error('pipeline: next() called twice'));
        const r = final(ctx);
        return r === undefined ? RESOLVED : r;
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return next();
  };
}
