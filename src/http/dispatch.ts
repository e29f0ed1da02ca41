import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { OPEN } from '../auth/principal.js';
import { sendJson } from './errors.js';
import { logRequest } from './stages/request-log.js';
import { VantageResponse } from './response.js';
import type { ManagementRoute, RequestContext } from './pipeline.js';

/**
 * Handles a request that is not for a management path (the built-in reverse proxy, src/lb/proxy, under `proxy_endpoints`).
 * Returns true when it took the request; false lets the router answer 404.
 */
export type FallbackHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface RequestRouterOptions {
  /** Exact management paths. */
  routes: ReadonlyMap<string, ManagementRoute>;
  /** Management path prefixes (e.g. "/reservations/", "/vantage.v1."), checked in order after exact paths. */
  prefixes: ReadonlyArray<{ prefix: string; route: ManagementRoute }>;
  /** The management pipeline (it handles its own failures: see compose()). */
  management: (ctx: RequestContext) => void;
  /** The pipeline of routes with auth=false (/health). */
  open: (ctx: RequestContext) => void;
  onFinished?: (routeName: string, status: number | 'aborted') => void;
  logger: Logger;
}

export interface RequestRouter {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Installs the hook for non-management paths (proxy). */
  setFallback(fn: FallbackHandler | null): void;
  /** Requests whose response has not finished yet. */
  inFlight(): number;
  /** Resolves once no request is in flight (immediately when none is). */
  idle(): Promise<void>;
}

/**
 * Routes requests to their pipeline: management paths always win (exact path, then prefixes), whatever proxy prefixes are
 * configured; everything else goes to the fallback hook, else 404.
 */
export function createRequestRouter(opts: RequestRouterOptions): RequestRouter {
  let fallback: FallbackHandler | null = null;
  let inFlight = 0;
  let waiters: Array<() => void> = [];

  const finished = () => {
    inFlight -= 1;
    if (inFlight === 0 && waiters.length > 0) {
      const w = waiters;
      waiters = [];
      for (const fn of w) fn();
    }
  };

  const match = (path: string): ManagementRoute | undefined => {
    const exact = opts.routes.get(path);
    if (exact !== undefined) return exact;
    for (const p of opts.prefixes) if (path.startsWith(p.prefix)) return p.route;
    return undefined;
  };

  const closed = (res: ServerResponse, data: unknown): void => {
    const ctx = data as RequestContext;
    const status = res.writableFinished ? res.statusCode : 'aborted';
    opts.onFinished?.(ctx.route.name, status);
    if (ctx.deadline !== undefined) ctx.deadline.clear();
    if (ctx.requestLogger !== undefined) logRequest(ctx.requestLogger, ctx, status);
    finished();
  };

  const notFound = (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (!res.headersSent) sendJson(res, 404, { error: `not found: ${req.method ?? 'GET'} ${path}` });
  };

  return {
    handle(req, res) {
      inFlight += 1;
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const route = match(path);
      if (route === undefined) {
        res.once('close', () => {
          opts.onFinished?.('other', res.writableFinished ? res.statusCode : 'aborted');
          finished();
        });
        if (fallback === null) {
          notFound(req, res, path);
          return;
        }
        Promise.resolve()
          .then(() => fallback!(req, res))
          .then((took) => {
            if (!took) notFound(req, res, path);
          })
          .catch((err: unknown) => {
            opts.logger.error({ err, path }, 'fallback handler failed');
            if (!res.headersSent) sendJson(res, 500, { error: 'internal server error' });
            else res.destroy();
          });
        return;
      }
      const method = req.method ?? 'GET';
      const ctx: RequestContext = {
        req,
        res,
        method,
        path,
        search: q === -1 ? '' : url.slice(q + 1),
        startMs: performance.now(),
        route,
        handler: route.methods[method],
        ip: req.socket.remoteAddress ?? '',
        body: null,
        json: undefined,
        principal: OPEN,
        requestLogger: undefined,
        deadline: undefined,
      };
      // Metrics, the request log and in-flight accounting once the response closes: through the response's
      // close hook (no listener allocated per request), or a 'close' listener on other responses (HTTP/2).
      if (res instanceof VantageResponse) {
        res.closeHook = closed;
        res.closeData = ctx;
      } else {
        res.once('close', () => closed(res, ctx));
      }
      // The pipelines contain their own crash handling; this catch is a last resort.
      try {
        (route.pipeline ?? (route.auth ? opts.management : opts.open))(ctx);
      } catch (err) {
        opts.logger.error({ err, path }, 'request pipeline failed');
        res.destroy();
      }
    },
    setFallback(fn) {
      fallback = fn;
    },
    inFlight: () => inFlight,
    idle() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}
