/**
 * The web listener (web_port, default 8082): the dashboard's origin. HTTPS by default (a configured certificate
 * or a self-signed one, see http/self-signed.ts), plain HTTP with web_tls_disable / WEB_TLS_DISABLE=true.
 *
 * Every request is authenticated once: X-API-Key (an api_keys entry with its role; no CSRF, no cookie) or the
 * session cookie (auth/session.ts). Then, in order: the auth endpoints (auth-routes.ts), the web Connect
 * services (registry.ts; role per method in roles.ts), the caller's `routes` in order, the static front end
 * with SPA fallback (static.ts), else 404. A state-changing request authenticated by the cookie must pass the
 * CSRF check (http/stages/csrf.ts) or gets 403 (Connect: permission_denied).
 *
 * The request handling is `createWebApp`, a handler with no listener of its own: the web port runs it at its
 * root, and the main port mounts the same app under dashboard_path (app/server.ts), with the session cookie's
 * Path, the scheme and the SPA's <base href> of that mount (`WebMount`).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { authenticateApiKey, actorOf, type KeyChecker } from '../../auth/api-key.js';
import { readCookies, SESSION_COOKIE, type ActiveSession, type SessionManager, type WebPrincipal } from '../../auth/session.js';
import type { LoginThrottle } from '../../auth/login-throttle.js';
import type { UserStore } from '../../store/users.js';
import { csrfProblem, isStateChanging } from '../../http/stages/csrf.js';
import { answerClientErrors, connectableHost, hostForUrl, listen } from '../../http/listen.js';
import { registerWebServices, type WebServicesDeps } from './registry.js';
import { kPrincipal, roleInterceptor } from './roles.js';
import { kActor } from './service.js';
import { AUTH_PREFIX, handleAuth } from './auth-routes.js';
import { serveStatic } from './static.js';
import { pathOf, selfOrigins, sendConnectError, sendJson } from './web-request.js';

export type { WebPrincipal } from '../../auth/session.js';

/** A route on the web port; returns true when it answered the request. */
export type WebRoute = (req: IncomingMessage, res: ServerResponse, principal: WebPrincipal | null) => boolean | Promise<boolean>;

export interface WebAppOptions {
  users: UserStore;
  sessions: SessionManager;
  throttle: LoginThrottle;
  services: WebServicesDeps;
  routes: WebRoute[];
  /** The built front end (dist/web); null or a missing folder: no static files. */
  staticDir: string | null;
  /** The live X-API-Key checker (null: no key configured, so X-API-Key is refused on this port). */
  apiKeys: () => KeyChecker | null;
  clientIp?: (req: IncomingMessage) => string;
  logger: Logger;
  now: () => number;
}

export interface WebServerOptions extends WebAppOptions {
  host: string;
  port: number;
  /** PEM certificate and key; null serves plain HTTP. */
  tls: { cert: string | Buffer; key: string | Buffer } | null;
}

/** Where the web app is mounted, as the browser sees it. */
export interface WebMount {
  /** The browser reached this listener over HTTPS (Secure cookie; the https:// self origin for CSRF). */
  https: boolean;
  /** The mount's path, starting and ending with '/': '/' on the web port, dashboard_path on the main port. */
  base: string;
}

export interface WebApp {
  /** Answers a request whose req.url is relative to the mount (the mount's prefix already taken off). */
  handle(req: IncomingMessage, res: ServerResponse, mount: WebMount): Promise<void>;
}

export interface RunningWebServer {
  readonly url: string;
  readonly port: number;
  readonly tls: boolean;
  readonly server: Server;
  close(): Promise<void>;
}

const CONNECT_PREFIX = '/vantage.v1.';
/** Paths of the public status pages and badges (monitoring/status-pages/routes.ts). */
const PUBLIC_PREFIXES = ['/status/', '/badge/'] as const;

/** Headers on every answer: no sniffing, no framing, same-origin referrers. */
const BASE_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

type Auth = { principal: WebPrincipal | null; session: ActiveSession | null; via: 'api-key' | 'cookie' | 'none'; refused?: string };

export function createWebApp(opts: WebAppOptions): WebApp {
  const staticRoot = opts.staticDir === null ? null : resolve(opts.staticDir);
  const clientIp = opts.clientIp ?? ((req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown');
  const auths = new WeakMap<IncomingMessage, Auth>();
  const adapter = connectNodeAdapter({
    routes: (router) => registerWebServices(router, { ...opts.services, users: opts.users }),
    interceptors: [roleInterceptor],
    readMaxBytes: 4 * 1024 * 1024,
    contextValues: (req) => {
      const a = auths.get(req as IncomingMessage);
      const p = a?.principal ?? null;
      const actor = p === null ? 'anonymous' : p.kind === 'user' ? `user:${p.username}` : actorOf((req as IncomingMessage).headers['x-api-key']);
      return createContextValues().set(kPrincipal, p).set(kActor, actor);
    },
  });

  const authenticate = async (req: IncomingMessage): Promise<Auth> => {
    const key = req.headers['x-api-key'];
    if (key !== undefined && key !== '') {
      const checker = opts.apiKeys();
      if (checker === null) return { principal: null, session: null, via: 'api-key', refused: 'X-API-Key: no API key is configured on this server' };
      const p = authenticateApiKey(checker, key, req.socket);
      if (p === 'missing' || p === 'wrong') return { principal: null, session: null, via: 'api-key', refused: 'X-API-Key wrong' };
      return { principal: { kind: 'api-key', role: p.kind === 'api-key' ? p.role : 'admin' }, session: null, via: 'api-key' };
    }
    // At most two (the web port's cookie and the main port's dashboard_path one), more is not a browser.
    for (const cookie of readCookies(req.headers.cookie, SESSION_COOKIE).slice(0, 2)) {
      if (cookie === '') continue;
      const session = await opts.sessions.resolve(cookie);
      if (session) return { principal: session.principal, session, via: 'cookie' };
    }
    return { principal: null, session: null, via: 'none' };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, mount: WebMount): Promise<void> => {
    const https = mount.https;
    for (const [k, v] of Object.entries(BASE_HEADERS)) res.setHeader(k, v);
    if (https) res.setHeader('strict-transport-security', 'max-age=31536000');
    const path = pathOf(req);
    const auth = await authenticate(req);
    auths.set(req, auth);
    if (path.startsWith(AUTH_PREFIX)) {
      const deps = { users: opts.users, sessions: opts.sessions, throttle: opts.throttle, https, cookiePath: mount.base, clientIp, now: opts.now };
      return handleAuth(deps, req, res, path, auth.session);
    }
    const connect = path.startsWith(CONNECT_PREFIX) && !path.startsWith('/vantage.v1.WorkerService/');
    // Public pages (status pages, badges, subscriber sign-up) act for nobody: they never see the cookie's session,
    // so a signed-in visitor's plain form POST there needs no CSRF token and gains no authority.
    if (PUBLIC_PREFIXES.some((p) => path.startsWith(p))) {
      for (const route of opts.routes) {
        if (await route(req, res, null)) return;
      }
      return sendJson(res, 404, { error: `not found: ${path.slice(0, 200)}` });
    }
    if (auth.refused) {
      if (connect) return sendConnectError(res, 401, 'unauthenticated', auth.refused);
      return sendJson(res, 401, { error: auth.refused });
    }
    // The cookie is an ambient credential: state-changing requests (and every Connect call) prove their origin.
    if (auth.via === 'cookie' && auth.session && (connect || isStateChanging(req.method))) {
      const problem = csrfProblem(req.headers, selfOrigins(req, https), auth.session.csrfToken);
      if (problem !== null) {
        if (connect) return sendConnectError(res, 403, 'permission_denied', problem);
        return sendJson(res, 403, { error: problem });
      }
    }
    if (connect) {
      if (auth.principal === null) return sendConnectError(res, 401, 'unauthenticated', 'not signed in');
      await adapter(req, res);
      return;
    }
    for (const route of opts.routes) {
      if (await route(req, res, auth.principal)) return;
    }
    if (staticRoot !== null && serveStatic(staticRoot, req, res, path, mount.base)) return;
    sendJson(res, 404, { error: `not found: ${path.slice(0, 200)}` });
  };
  return { handle };
}

export async function createWebServer(opts: WebServerOptions): Promise<RunningWebServer> {
  return listenWebServer(createWebApp(opts), opts);
}

/** The web port's listener around an app (mounted at its root). */
export async function listenWebServer(app: WebApp, opts: Pick<WebServerOptions, 'host' | 'port' | 'tls' | 'logger'>): Promise<RunningWebServer> {
  const mount: WebMount = { https: opts.tls !== null, base: '/' };
  const https = mount.https;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    app.handle(req, res, mount).catch((err: unknown) => {
      opts.logger.error({ err, path: pathOf(req) }, 'web request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };

  const timeouts = { headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 5_000 };
  const server: Server = opts.tls
    ? (createHttpsServer({ ...timeouts, cert: opts.tls.cert, key: opts.tls.key }, onRequest) as unknown as Server)
    : createHttpServer(timeouts, onRequest);
  answerClientErrors(server);
  await listen(server, opts.port, opts.host);
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  return {
    url: `${https ? 'https' : 'http'}://${hostForUrl(connectableHost(opts.host))}:${port}`,
    port,
    tls: https,
    server,
    close: () =>
      (closing ??= new Promise<void>((done) => {
        server.close(() => done());
        server.closeIdleConnections();
        // Long-lived answers (the live stream) would hold close() open; the listener is going away.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      })),
  };
}
