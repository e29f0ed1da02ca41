import type { Logger } from 'pino';
import type { RequestContext, Stage } from './types.js';

/** Writes the request-log line of a finished request (called once, when its response closes). */
export function logRequest(logger: Logger, ctx: RequestContext, status: number | 'aborted'): void {
  const level = status === 'aborted' ? 'info' : status >= 500 && status !== 503 ? 'warn' : status >= 400 ? 'info' : 'debug';
  if (!logger.isLevelEnabled(level)) return;
  const ms = performance.now() - ctx.startMs;
  logger[level]({ method: ctx.method, path: ctx.path, status, ms: Math.round(ms * 1000) / 1000, ip: ctx.ip }, 'request');
}

/**
 * Request log: one line per finished request with method, path, status, duration and peer. Successful
 * requests log at debug (the hot path stays cheap at the default info level), 4xx and 503 (no capacity) at
 * info, other 5xx at warn. The stage only marks the request; the dispatcher's single close listener writes
 * the line (no extra listener per request).
 */
export function requestLog(logger: Logger): Stage {
  return (ctx, next) => {
    ctx.requestLogger = logger;
    return next();
  };
}
