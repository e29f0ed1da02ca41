import { apiKeyRefusal, authenticateApiKey } from '../../auth/api-key.js';
import type { LiveSecurity } from '../live-security.js';
import type { Stage } from '../pipeline.js';
import { HttpError } from '../errors.js';

/**
 * Authentication, the management pipeline's last stage: the X-API-Key is checked against the live keys (401
 * missing, 403 wrong) and the principal set in ctx.principal, once per request; handlers behind it (the web API
 * among them) take the principal from there. Routes with auth=false, and every route when no key is configured,
 * keep the OPEN principal.
 */
export function authenticateStage(live: Pick<LiveSecurity, 'keys'>): Stage {
  return (ctx, next) => {
    const check = live.keys();
    if (check === null || !ctx.route.auth) return next();
    const p = authenticateApiKey(check, ctx.req.headers['x-api-key'], ctx.req.socket);
    if (p === 'missing' || p === 'wrong') throw apiKeyRefusal(p);
    // A key with a web role below admin ("key:viewer", "key:editor") may read the management API but not change
    // it; the web services (/vantage.v1.*) check its role per method themselves (api/web/roles.ts).
    if (p.kind === 'api-key' && p.role !== 'admin' && ctx.route.name !== '/vantage.v1.*' && !['GET', 'HEAD'].includes(ctx.req.method ?? 'GET')) {
      throw new HttpError(403, `this API key has the ${p.role} role: the management API is read-only for it`, { field: 'X-API-Key' });
    }
    ctx.principal = p;
    return next();
  };
}
