import type { Logger } from 'pino';
import type { Stage } from './types.js';

/**
 * Request log: one line per finished request with method, path, status, duration and peer. Successful
 * requests log at debug (the hot path stays cheap at the default info level), 4xx and 503 (no capacity) at info, other 5xx at warn.
 */
export function requestLog(logger: Logger): Stage {
  return (ctx, next) => {
    const { res } = ctx;
    res.once('finish', () => {
      const status = res.statusCode;
      const level = status >= 500 && status !== 503 ? 'warn' : status >= 400 ? 'info' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - ctx.startNs) / 1e6;
      logger[level]({ method: ctx.method, path: ctx.path, status, ms: Math.round(ms * 1000) / 1000, ip: ctx.ip }, 'request');
    });
    return next();
  };
}
