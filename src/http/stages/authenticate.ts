import { apiKeyRefusal, authenticateApiKey } from '../../auth/api-key.js';
import type { LiveSecurity } from '../live-security.js';
import type { Stage } from '../pipeline.js';

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
    ctx.principal = p;
    return next();
  };
}
