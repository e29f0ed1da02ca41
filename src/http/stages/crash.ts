import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { HttpError, discardBody, sendHttpError, sendJson } from '../errors.js';
import { splitTarget } from '../path.js';
import type { PipelineErrorHandler, RequestContext } from '../pipeline.js';

/** A short id tying a 500 answer to its log line. */
export function newRequestId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * Crash containment, the management pipelines' error handler: an HttpError becomes its JSON response;
 * anything else is logged with its stack and a request id, and answered 500 with the same `request_id` (or,
 * when the response has already started, the connection is dropped). The server never dies because of one
 * request: should answering fail as well, the connection is dropped and that failure logged.
 */
export function crashHandler(logger: Logger): PipelineErrorHandler {
  const fail = (ctx: RequestContext, err: unknown): void => {
    const { res } = ctx;
    if (err instanceof HttpError) {
      if (!res.headersSent) sendHttpError(res, err);
      else res.destroy();
      if (err.opts.drain) discardBody(ctx.req);
      return;
    }
    const requestId = newRequestId();
    logger.error({ err, request_id: requestId, method: ctx.method, path: ctx.path }, 'request handler failed');
    if (!res.headersSent) sendJson(res, 500, { error: 'internal server error', request_id: requestId });
    else res.destroy();
  };
  return (ctx, err) => {
    try {
      fail(ctx, err);
    } catch (e) {
      logger.error({ err: e, method: ctx.method, path: ctx.path }, 'answering a failed request failed');
      ctx.res.destroy();
    }
  };
}

/**
 * Crash containment of proxied traffic: a failure of the proxied-traffic front or of the proxy handler is logged
 * with a request id and answered 500 with it (or, once the response has started, the connection is dropped).
 */
export function proxiedCrashHandler(logger: Logger): (err: unknown, req: IncomingMessage, res: ServerResponse) => void {
  return (err, req, res) => {
    const requestId = newRequestId();
    logger.error({ err, request_id: requestId, method: req.method, path: splitTarget(req.url ?? '/').path.slice(0, 200) }, 'proxied request failed');
    if (!res.headersSent) sendJson(res, 500, { error: 'internal server error', request_id: requestId });
    else res.destroy();
  };
}
