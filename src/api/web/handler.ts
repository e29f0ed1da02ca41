/**
 * Serves vantage.v1.MonitorsService (Connect protocol, JSON or binary, over HTTP/1.1 or HTTP/2) as a plain
 * Node request handler for the main port: it answers paths under /vantage.v1.MonitorsService/ and returns false
 * for every other path, so the main server can try it before its own routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { MonitorsService } from '../../gen/vantage/v1/monitors_pb.js';
import { actorFor, checkApiKey, type ApiKeyCheck } from '../../auth/web.js';
import { createMonitorsServiceImpl, kActor, type MonitorsServiceDeps } from './service.js';

export const MONITORS_SERVICE_PREFIX = `/${MonitorsService.typeName}/`;

export type WebHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export function createWebHandler(
  deps: MonitorsServiceDeps & {
    auth: { server_key: string; api_keys: readonly string[] };
    /**
     * Optional override of the key check (the main server's own): true (or 'server' / 'api', the kind of key
     * that matched) lets the request through; false, 'missing' or 'wrong' refuse it.
     */
    checkApiKey?: (req: IncomingMessage) => boolean | string;
  },
): WebHandler {
  const check = (req: IncomingMessage): ApiKeyCheck => {
    if (!deps.checkApiKey) return checkApiKey(req.headers, deps.auth);
    const r = deps.checkApiKey(req);
    if (r !== true && r !== 'server' && r !== 'api') return { ok: false, reason: r === 'missing' ? 'missing' : 'wrong' };
    const key = req.headers['x-api-key'];
    const presented = Array.isArray(key) ? key[0] : key;
    return { ok: true, actor: presented ? actorFor(presented) : 'anonymous' };
  };
  const actors = new WeakMap<IncomingMessage, string>();
  const adapter = connectNodeAdapter({
    routes: (router) => router.service(MonitorsService, createMonitorsServiceImpl(deps)),
    contextValues: (req) => createContextValues().set(kActor, actors.get(req as IncomingMessage) ?? 'anonymous'),
  });
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith(MONITORS_SERVICE_PREFIX)) return false;
    const auth = check(req);
    if (!auth.ok) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'unauthenticated', message: auth.reason === 'missing' ? 'X-API-Key header missing' : 'X-API-Key wrong' }));
      return true;
    }
    actors.set(req, auth.actor);
    void adapter(req, res);
    return true;
  };
}
