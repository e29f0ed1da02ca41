import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { HttpError, discardBody, sendHttpError, sendJson } from '../errors.js';
import type { PipelineErrorHandler, RequestContext } from '../pipeline.js';

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
    const requestId = randomBytes(8).toString('hex');
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
