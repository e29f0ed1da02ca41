/**
 * The three request pipelines (DESIGN.md "Request pipelines"), each listed here in the order its steps run.
 * Every hardening step reads the live SecurityRuntime state (LiveSecurity) on each request, so a SIGHUP reload
 * applies to the next request without rebuilding a pipeline.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { realTimers, type Timers } from '../platform/timers.js';
import { requestClientIp } from './client-address.js';
import type { FallbackHandler } from './dispatch.js';
import { sendHttpError, type HttpError } from './errors.js';
import type { LiveSecurity } from './live-security.js';
import { compose, type RequestContext, type Stage } from './pipeline.js';
import type { SecurityPolicy } from './policy.js';
import { socketJsonError } from './raw-error.js';
import { deferHeaders } from './response.js';
import { allowListStage } from './stages/allow-list.js';
import { authenticateStage } from './stages/authenticate.js';
import { bodyLimit } from './stages/body-limit.js';
import { answerCors, corsStage } from './stages/cors.js';
import { crashHandler, proxiedCrashHandler } from './stages/crash.js';
import { hostRefusal, hostStage } from './stages/host.js';
import { proxiedRateLimit, rateLimitStage } from './stages/rate-limit.js';
import { logProxiedRequest, requestLog } from './stages/request-log.js';
import { securityHeadersStage } from './stages/security-headers.js';
import { timeoutStage } from './stages/timeout.js';
import { proxiedInputRefusal, validateInput } from './stages/validate-input.js';

export * from './pipeline.js';

/** The management pipeline's stages by name (a test may replace one, see StartServerOptions.stages). */
export interface ManagementStages {
  securityHeaders: Stage;
  requestLog: Stage;
  cors: Stage;
  bodyLimit: Stage;
  timeout: Stage;
  host: Stage;
  validateInput: Stage;
  allowList: Stage;
  rateLimit: Stage;
  authenticate: Stage;
}

/** The management pipeline's stages, built on the live security state. */
export function managementStages(live: LiveSecurity, logger: Logger, timers: Timers = realTimers): ManagementStages {
  return {
    securityHeaders: securityHeadersStage(live),
    requestLog: requestLog(logger),
    cors: corsStage(live),
    bodyLimit: bodyLimit(live.policy().maxRequestBodyBytes),
    timeout: timeoutStage(live, timers),
    host: hostStage(live),
    validateInput: validateInput(),
    allowList: allowListStage(live),
    rateLimit: rateLimitStage(live),
    authenticate: authenticateStage(live),
  };
}

const runHandler = (ctx: RequestContext): void | Promise<void> => ctx.handler!(ctx);

/**
 * The management API (every route with auth=true, the web API under /vantage.v1. among them): crash
 * containment (the error handler around all of it) → security headers → request log → CORS (when enabled:
 * answers preflights, before the method check and authentication) → body limit → timeout → Host validation →
 * input validation → IP allow-list → rate limit → authenticate → handler.
 */
export function managementPipeline(s: ManagementStages, logger: Logger) {
  return compose(
    [s.securityHeaders, s.requestLog, s.cors, s.bodyLimit, s.timeout, s.host, s.validateInput, s.allowList, s.rateLimit, s.authenticate],
    runHandler,
    crashHandler(logger),
  );
}

/**
 * /health: crash containment → security headers → CORS (when enabled, so a browser status page may read it) →
 * handler (no auth, no rate limit; a wrong method gets 405).
 */
export function healthPipeline(s: Pick<ManagementStages, 'securityHeaders' | 'cors'>, logger: Logger) {
  const methodCheck = validateInput();
  return compose(
    [s.securityHeaders, s.cors],
    (ctx) => {
      if (ctx.handler === undefined) return methodCheck(ctx, () => undefined);
      return ctx.handler(ctx);
    },
    crashHandler(logger),
  );
}

/**
 * The dashboard under dashboard_path on the main port (the web app, api/web/server.ts, which authenticates by
 * session cookie or X-API-Key itself and checks CSRF): crash containment → security headers → request log →
 * Host validation → handler. No allow-list, rate limit, API-key stage or timeout: the dashboard is the web
 * port's app with the web port's rules (sign-in has its own throttle), and its live stream is long-lived.
 */
export function dashboardPipeline(s: Pick<ManagementStages, 'securityHeaders' | 'requestLog' | 'host'>, logger: Logger) {
  const methodCheck = validateInput();
  return compose(
    [s.securityHeaders, s.requestLog, s.host],
    (ctx) => (ctx.handler === undefined ? methodCheck(ctx, () => undefined) : ctx.handler(ctx)),
    crashHandler(logger),
  );
}

/**
 * The checks proxied requests and WebSocket upgrades pass, in order: Host validation → input validation (tier
 * names, path) → rate limit (the proxy's own buckets). No allow-list and no API key, ever.
 */
function proxiedChecks(live: LiveSecurity, req: IncomingMessage, p: SecurityPolicy, ip: string): HttpError | null {
  return hostRefusal(req, live) ?? proxiedInputRefusal(req, p.tierHeader) ?? proxiedRateLimit(live, req, ip);
}

/**
 * Proxied traffic (every non-management path; `fn` is the reverse proxy): CORS when enabled (answers
 * preflights) → crash containment → security headers → request log → body limit and timeout (the proxy's own,
 * in lb/proxy; SSE and WebSocket exempt from the timeout) → Host validation → input validation → rate limit →
 * `fn`. A plain function rather than a compose() chain: it runs for every proxied request and needs no
 * RequestContext. With `fn` null, requests still get the headers and checks, then 404 (returns false).
 */
export function proxiedPipeline(live: LiveSecurity, logger: Logger, fn: FallbackHandler | null): FallbackHandler {
  const crash = proxiedCrashHandler(logger);
  const front = (req: IncomingMessage, res: ServerResponse, p: SecurityPolicy): boolean | Promise<boolean> => {
    deferHeaders(res, p.headers);
    const ip = requestClientIp(req, p.trustedProxies);
    logProxiedRequest(logger, req, res, ip);
    const refused = proxiedChecks(live, req, p, ip);
    if (refused !== null) {
      sendHttpError(res, refused);
      return true;
    }
    if (fn === null) return false;
    const r = fn(req, res);
    if (r instanceof Promise) {
      return r.catch((err: unknown) => {
        crash(err, req, res);
        return true;
      });
    }
    return r;
  };
  return (req, res) => {
    const p = live.policy();
    if (p.cors.enabled && answerCors(p, req, res)) return true;
    try {
      return front(req, res, p);
    } catch (err) {
      crash(err, req, res);
      return true;
    }
  };
}

/**
 * WebSocket (Upgrade) requests under proxy_endpoints, before they are proxied: the same checks as proxied
 * requests (Host → input → rate limit). Returns false after answering on the socket when refused.
 */
export function guardUpgrade(live: LiveSecurity, req: IncomingMessage, socket: Duplex): boolean {
  const p = live.policy();
  const refused = proxiedChecks(live, req, p, requestClientIp(req, p.trustedProxies));
  if (refused === null) return true;
  socketJsonError(socket, refused.status, refused.message, undefined, refused.opts.headers);
  return false;
}
