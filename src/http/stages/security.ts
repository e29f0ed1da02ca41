import type { IncomingMessage } from 'node:http';
import { HttpError, sendJson } from '../errors.js';
import type { Stage } from '../pipeline.js';
import { realTimers, type Timers } from '../../platform/timers.js';
import { resolveClientIp } from '../client-address.js';
import { deferHeaders } from '../response.js';
import { RequestDeadlines } from '../deadlines.js';
import { isValidHost } from './host.js';
import { connectionClose, requestAuthority } from '../http2.js';
import type { SecurityPolicy } from '../policy.js';
import { rateLimitHeaderList, rateLimitHeaders, type TokenBucketLimiter } from './rate-limit.js';

/**
 * The management pipeline's hardening stages. Each reads the live policy through `state()` on every request,
 * so a config reload (SIGHUP) applies to the next request without rebuilding the pipeline.
 */
export interface LiveSecurity {
  policy(): SecurityPolicy;
  limiter(): TokenBucketLimiter;
  /** True when the request carries `server_key` (an agent). */
  isAgent(req: IncomingMessage): boolean;
  /** Counters (prom-client or no-ops). */
  onRateLimited(pipeline: 'management' | 'proxy'): void;
  onDenied(reason: 'allow_list' | 'host'): void;
}

export type { Timers as TimerFns };

/** Security headers on every response (also /health), unless `disable_security_headers`. */
export function securityHeadersStage(live: Pick<LiveSecurity, 'policy'>): Stage {
  return (ctx, next) => {
    deferHeaders(ctx.res, live.policy().headers);
    return next();
  };
}

/**
 * Whole-request timeout (`request_timeout_seconds`): a handler that has not answered in time gets a 503 sent
 * for it (or, if it had started answering, the connection is closed). Streaming routes and event streams are
 * exempt.
 *
 * No timer per request: requests in flight are kept in one set (RequestDeadlines) that a single timer sweeps
 * (every tenth of the timeout, between 50 ms and 1 s), and the dispatcher takes a request out of the set when
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

/** Host header injection: a Host that is not a host name or address (with optional port) is refused. */
export function hostValidationStage(live: Pick<LiveSecurity, 'onDenied'>): Stage {
  return (ctx, next) => {
    const host = requestAuthority(ctx.req); // Host, or HTTP/2's :authority
    if (host !== undefined && !isValidHost(host)) {
      live.onDenied('host');
      throw new HttpError(400, 'invalid Host header: expected a host name or IP address with an optional port', { field: 'host' });
    }
    return next();
  };
}

/**
 * IP allow-list (`whitelisted_ips`): resolves the client address (the socket's, or a trusted proxy's
 * `X-Forwarded-For` hop per `trusted_proxies`) into ctx.ip, then refuses addresses outside the list with 403.
 */
export function allowListStage(live: Pick<LiveSecurity, 'policy' | 'onDenied'>): Stage {
  return (ctx, next) => {
    const p = live.policy();
    ctx.ip = resolveClientIp(ctx.req.socket.remoteAddress, p.trustedProxies.size > 0 ? ctx.req.headers['x-forwarded-for'] : undefined, p.trustedProxies);
    if (p.allowList !== null && !p.allowList.matches(ctx.ip)) {
      live.onDenied('allow_list');
      throw new HttpError(403, `client address ${ctx.ip} is not in whitelisted_ips`, { field: 'whitelisted_ips' });
    }
    return next();
  };
}

/**
 * Per-IP token bucket (`rate_limit_per_minute`, `rate_limit_burst`): 429 with Retry-After and RateLimit-*
 * headers. Requests carrying `server_key` skip it when `rate_limit_exempt_agents` (agents behind one NAT).
 * Runs before the API-key stage, so a flood of wrong keys is limited too.
 */
export function rateLimitStage(live: LiveSecurity): Stage {
  return (ctx, next) => {
    const p = live.policy();
    if (p.exemptAgents && live.isAgent(ctx.req)) return next();
    const d = live.limiter().take(ctx.ip);
    if (!d.allowed) {
      live.onRateLimited('management');
      throw new HttpError(429, `rate limit exceeded for ${ctx.ip}: retry in ${d.retryAfterSeconds} s (rate_limit_per_minute: ${p.rateLimit.perMinute}, rate_limit_burst: ${p.rateLimit.burst})`, {
        headers: rateLimitHeaders(d, p.rateLimit),
      });
    }
    deferHeaders(ctx.res, rateLimitHeaderList(d, p.rateLimit));
    return next();
  };
}

/** Runs `a` then `b` as one stage (to fill one pipeline slot with two checks). */
export function chainStages(a: Stage, b: Stage): Stage {
  return (ctx, next) => a(ctx, () => b(ctx, next));
}
