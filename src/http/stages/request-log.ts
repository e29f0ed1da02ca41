import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { splitTarget } from '../path.js';
import type { RequestContext, Stage } from '../pipeline.js';

/**
 * The level of a finished request's log line: debug for successes and for 429 (a flood of refused requests
 * must not become a flood of log lines; `vantage_rate_limited_total` counts them), info for other 4xx, 503
 * and aborted requests, warn for other 5xx.
 */
export function requestLogLevel(status: number | 'aborted'): 'debug' | 'info' | 'warn' {
  if (status === 'aborted') return 'info';
  if (status >= 500) return status === 503 ? 'info' : 'warn';
  if (status >= 400) return status === 429 ? 'debug' : 'info';
  return 'debug';
}

/** Writes the request-log line of a finished request (called once, when its response closes). */
export function logRequest(logger: Logger, ctx: RequestContext, status: number | 'aborted'): void {
  const level = requestLogLevel(status);
  if (!logger.isLevelEnabled(level)) return;
  const ms = performance.now() - ctx.startMs;
  logger[level]({ method: ctx.method, path: ctx.path, status, ms: Math.round(ms * 1000) / 1000, ip: ctx.ip }, 'request');
}

/**
 * Request log: one line per finished request with method, path, status, duration and peer, at the level
 * `requestLogLevel` gives (successes at debug, so the hot path stays cheap at the default info level). The
 * stage only marks the request; the request router's close hook writes the line (nothing allocated per request).
 */
export function requestLog(logger: Logger): Stage {
  return (ctx, next) => {
    ctx.requestLogger = logger;
    return next();
  };
}

/**
 * The request log of proxied traffic: the same line, marked `proxied: true`, written when the response finishes
 * (proxied requests have no RequestContext, so a 'finish' listener does it).
 */
export function logProxiedRequest(logger: Logger, req: IncomingMessage, res: ServerResponse, ip: string): void {
  const started = performance.now();
  res.once('finish', () => {
    const status = res.statusCode;
    const level = requestLogLevel(status);
    if (!logger.isLevelEnabled(level)) return;
    const ms = performance.now() - started;
    logger[level]({ method: req.method, path: splitTarget(req.url ?? '/').path.slice(0, 200), status, ms: Math.round(ms * 1000) / 1000, ip, proxied: true }, 'request');
  });
}
