/**
 * Serves the web API's Connect services (registry.ts: vantage.v1.MonitorsService, …) (Connect protocol, JSON or binary, over HTTP/1.1 or HTTP/2) as a plain
 * Node request handler for the main port: it answers paths under /vantage.v1.<Service>/ and returns false
 * for every other path, so the main server can try it before its own routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { registerWebServices, type WebServicesDeps } from './registry.js';
import { actorOf, authenticateApiKey, createKeyChecker } from '../../auth/api-key.js';
import type { Principal } from '../../auth/principal.js';
import { kActor } from './service.js';
import { kPrincipal, roleInterceptor } from './roles.js';
import type { WebPrincipal } from '../../auth/session.js';

/** The web role of a main-port principal: an API key's role; OPEN (no key configured) has full access. */
function webPrincipalOf(p: Principal): WebPrincipal {
  return { kind: 'api-key', role: p.kind === 'api-key' ? p.role : 'admin' };
}

/** Every web service lives under vantage.v1 (registry.ts lists them). */
export const WEB_SERVICES_PREFIX = '/vantage.v1.';

/**
 * `principal`: the caller as already authenticated by the main server's management pipeline; without it the
 * handler checks X-API-Key against `auth` itself (the same checker, auth/api-key.ts), so a request is
 * authenticated once either way.
 */
export type WebHandler = (req: IncomingMessage, res: ServerResponse, principal?: Principal) => boolean;

export function createWebHandler(
  deps: WebServicesDeps & {
    auth: { server_key: string; api_keys: readonly string[] };
  },
): WebHandler {
  const keys = createKeyChecker(deps.auth);
  const actors = new WeakMap<IncomingMessage, string>();
  const principals = new WeakMap<IncomingMessage, WebPrincipal>();
  const adapter = connectNodeAdapter({
    routes: (router) => registerWebServices(router, deps),
    interceptors: [roleInterceptor],
    contextValues: (req) =>
      createContextValues()
        .set(kActor, actors.get(req as IncomingMessage) ?? 'anonymous')
        .set(kPrincipal, principals.get(req as IncomingMessage) ?? null),
  });
  return (req, res, principal) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith(WEB_SERVICES_PREFIX) || path.startsWith('/vantage.v1.WorkerService/')) return false;
    const who = principal ?? authenticateApiKey(keys, req.headers['x-api-key']);
    if (who === 'missing' || who === 'wrong') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'unauthenticated', message: who === 'missing' ? 'X-API-Key header missing' : 'X-API-Key wrong' }));
      return true;
    }
    actors.set(req, actorOf(req.headers['x-api-key']));
    principals.set(req, webPrincipalOf(who));
    void adapter(req, res);
    return true;
  };
}
