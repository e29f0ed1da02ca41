import type { LiveSecurity } from '../live-security.js';
import type { Stage } from '../pipeline.js';
import { deferHeaders } from '../response.js';

/**
 * Security headers on every response (also /health), unless `disable_security_headers`; the list itself is
 * http/security-headers.ts, compiled into the live policy.
 */
export function securityHeadersStage(live: Pick<LiveSecurity, 'policy'>): Stage {
  return (ctx, next) => {
    deferHeaders(ctx.res, live.policy().headers);
    return next();
  };
}
