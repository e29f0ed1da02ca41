import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';

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
  /** A route with a pipeline of its own (the dashboard under dashboard_path); default: by `auth`. */
  pipeline?: (ctx: RequestContext) => void;
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
  /** Who the request acts as, set once by the authenticate stage (OPEN until then, and when no key is configured). */
  principal: Principal;
  /** Set by the request-log stage: the request router logs the finished request with it. */
  requestLogger?: Logger;
  /** Set by the timeout stage: the request router clears it when the response closes. */
  deadline?: { clear(): void };
}

/**
 * Continues the pipeline with the next stage (or the handler). With an error, stops it instead and hands
 * the error to the pipeline's error handler (crash containment). Returns nothing: a synchronous throw or a
 * rejected promise anywhere further down goes to the error handler too, never back to the caller.
 */
export type Next = (err?: unknown) => void;

/**
 * One pipeline step: do its check, then call `next()`; or throw (an HttpError becomes its answer), or answer
 * and not call `next`. A stage that must wait (reading the body) calls `next()` or `next(err)` later, from its
 * callback. Stages are pre-handlers: nothing waits for the handler to finish, and per-request work after the
 * response is the request router's close hook's job. A stage may be async; its rejection goes to the error handler.
 */
export type Stage = (ctx: RequestContext, next: Next) => void | Promise<void>;

/** Handles a request's failure: a throw, a rejection or `next(err)` from any stage or the handler. */
export type PipelineErrorHandler = (ctx: RequestContext, err: unknown) => void;

/**
 * Chains stages into one function; `final` runs after the last stage. Null and undefined entries are skipped.
 * Every failure goes to `onError`, so the chain needs no promise per step, nor per request: a synchronous
 * pipeline costs plain calls, and only a stage or handler that returns a (pending) promise gets a rejection
 * handler attached. After a failure the chain is over: later `next()` calls of the same request do nothing
 * (a later failure still reaches `onError`, which finds the response already answered).
 */
export function compose(
  stages: ReadonlyArray<Stage | null | undefined>,
  final: (ctx: RequestContext) => void | Promise<void>,
  onError: PipelineErrorHandler,
): (ctx: RequestContext) => void {
  const list = stages.filter((s): s is Stage => typeof s === 'function');
  const n = list.length;
  return (ctx) => {
    // One `next` and one `fail` per request (not one per stage): each stage calls next at most once, in order.
    let i = 0;
    let stopped = false;
    const fail = (err: unknown): void => {
      stopped = true;
      onError(ctx, err);
    };
    const next: Next = (err?: unknown): void => {
      if (err !== undefined) return fail(err);
      if (stopped) return;
      try {
        let r: void | Promise<void>;
        if (i < n) r = list[i++]!(ctx, next);
        else if (i++ === n) r = final(ctx);
        else throw new Error('pipeline: next() called twice');
        if (r !== undefined) r.then(undefined, fail);
      } catch (e) {
        fail(e);
      }
    };
    next();
  };
}
