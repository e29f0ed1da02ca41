/**
 * The web app (server.ts `createWebApp`) mounted under a path of another listener: the main port serves the
 * dashboard, its sign-in, live stream and web Connect services under dashboard_path (default /ui/). The mount's
 * prefix is taken off req.url before the app sees the request (the app's routes are the web port's), the bare
 * path (/ui) redirects to /ui/, and the session cookie is set with Path=<dashboard_path>.
 */
import type { Handler, RequestContext } from '../../http/pipeline.js';
import { HttpError } from '../../http/errors.js';
import type { WebApp } from './server.js';

/** Every method the web app answers; others get 405 from the pipeline's method check. */
export const MOUNT_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export interface MountOptions {
  /** The mount's path, starting and ending with '/' (dashboard_path). */
  base: string;
  /** The listener is HTTPS (cookie Secure, the https:// origin for CSRF). */
  https: boolean;
  /** The app, once the web platform has started (null until then: 503). */
  app: () => WebApp | null;
}

/** The management-route handler of a mount (one for every method of MOUNT_METHODS). */
export function mountedWebHandler(o: MountOptions): Handler {
  const bare = o.base.slice(0, -1);
  const mount = { https: o.https, base: o.base };
  return async (ctx: RequestContext) => {
    const { req, res } = ctx;
    if (ctx.path === bare) {
      const location = o.base + (ctx.search === '' ? '' : `?${ctx.search}`);
      res.writeHead(308, { location, 'content-length': 0, 'cache-control': 'no-store' });
      res.end();
      return;
    }
    const app = o.app();
    if (app === null) throw new HttpError(503, 'the dashboard is starting; try again in a moment');
    // The app's own paths: /ui/api/auth/login → /api/auth/login (as Express mounts an app; the request log
    // and metrics of the main port keep the full path from ctx).
    req.url = (req.url ?? o.base).slice(bare.length);
    await app.handle(req, res, mount);
  };
}
