import { requestClientIp } from '../client-address.js';
import { HttpError } from '../errors.js';
import type { LiveSecurity } from '../live-security.js';
import type { Stage } from '../pipeline.js';

/**
 * IP allow-list (`whitelisted_ips`): resolves the client address (the socket's, or a trusted proxy's
 * `X-Forwarded-For` hop per `trusted_proxies`) into ctx.ip, then refuses addresses outside the list with 403.
 */
export function allowListStage(live: Pick<LiveSecurity, 'policy' | 'onDenied'>): Stage {
  return (ctx, next) => {
    const p = live.policy();
    ctx.ip = requestClientIp(ctx.req, p.trustedProxies);
    if (p.allowList !== null && !p.allowList.matches(ctx.ip)) {
      live.onDenied('allow_list');
      throw new HttpError(403, `client address ${ctx.ip} is not in whitelisted_ips`, { field: 'whitelisted_ips' });
    }
    return next();
  };
}
