import { realTimers, type Timers } from '../../platform/timers.js';
import { RequestDeadlines } from '../deadlines.js';
import { sendJson } from '../errors.js';
import { connectionClose } from '../http2.js';
import type { LiveSecurity } from '../live-security.js';
import type { Stage } from '../pipeline.js';

/**
 * Whole-request timeout (`request_timeout_seconds`): a handler that has not answered in time gets a 503 sent
 * for it (or, if it had started answering, the connection is closed). Streaming routes and event streams are
 * exempt.
 *
 * No timer per request: requests in flight are kept in one set (RequestDeadlines) that a single timer sweeps
 * (every tenth of the timeout, between 50 ms and 1 s), and the request router takes a request out of the set when
 * its response closes. `now` is the clock the deadlines are measured in (ms).
 */
export function timeoutStage(live: Pick<LiveSecurity, 'policy'>, timers: Timers = realTimers, now: () => number = () => performance.now()): Stage {
  const deadlines = new RequestDeadlines(timers, now, (ctx, ms) => {
    const { res } = ctx;
    if (res.writableEnded || res.destroyed) return;
    const type = res.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('text/event-stream')) return;
    if (!res.headersSent) {
      sendJson(res, 503, { error: `request timed out after ${ms / 1000} s (request_timeout_seconds)` }, connectionClose(ctx.req));
    } else {
      res.destroy();
    }
  });
  return (ctx, next) => {
    if (ctx.route.body !== 'stream') deadlines.add(ctx, live.policy().requestTimeoutMs);
    return next();
  };
}
