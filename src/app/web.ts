/**
 * The web platform's composition root: the session secret (session_secret, else generated once and stored in
 * the database), sessions, login throttling, the web port's certificate (configured, self-signed in state_dir,
 * or none with web_tls_disable), the web listener (api/web/server.ts) and, on a server without users, the
 * one-time setup link. Started by app/server.ts after the main port.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server.js';
import type { OpenedStore } from '../store/index.js';
import { generateSecret, SessionManager } from '../auth/session.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { issueSetupToken } from '../auth/setup-token.js';
import type { KeyChecker } from '../auth/api-key.js';
import { parseDuration } from '../platform/duration.js';
import { loadTlsMaterial } from '../http/tls.js';
import { selfSignedWebCert } from '../http/self-signed.js';
import { createWebApp, listenWebServer, type RunningWebServer, type WebApp, type WebRoute } from '../api/web/server.js';
import type { WebServicesDeps } from '../api/web/registry.js';

export interface WebPlatform {
  web: RunningWebServer;
  /** The web port's request handling, which the main port also mounts under dashboard_path. */
  app: WebApp;
  /** `<web url>/setup?token=…` while the server has no user (valid once, for 1 h); else null. */
  setupLink: string | null;
  /** The one-time setup token of `setupLink` (the main port's dashboard takes it at `<dashboard_path>setup?token=`). */
  setupToken: string | null;
  close(): Promise<void>;
}

/** The package's dist/web (vite's outDir), from src/app or dist/app alike. */
export const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../../dist/web', import.meta.url));

/** Where the server keeps generated files: state_dir, else the SQLite file's folder, else ./data. */
export function serverStateDir(config: Pick<ServerConfig, 'state_dir' | 'database'>): string {
  if (config.state_dir !== '') return resolve(config.state_dir);
  if (/^postgres(ql)?:\/\//i.test(config.database) || config.database === ':memory:') return resolve('./data');
  return dirname(resolve(config.database));
}

const EXPIRED_SWEEP_MS = 3_600_000;

export async function startWebPlatform(opts: {
  config: ServerConfig;
  store: OpenedStore;
  services: WebServicesDeps;
  apiKeys: () => KeyChecker | null;
  clientIp: (req: IncomingMessage) => string;
  routes?: WebRoute[];
  staticDir?: string | null;
  logger: Logger;
  now: () => number;
}): Promise<WebPlatform> {
  const { config, store, logger, now } = opts;
  const users = store.users;
  const secret = config.session_secret !== '' ? config.session_secret : await users.secret('session_secret', generateSecret());
  const sessions = new SessionManager({ store: users, secret, ttlMs: parseDuration(config.session_ttl), now });
  const throttle = new LoginThrottle({
    maxPerUser: config.login_max_failures_per_user,
    maxPerIp: config.login_max_failures_per_ip,
    windowMs: parseDuration(config.login_throttle_window),
    now,
  });
  let tls: { cert: string | Buffer; key: string | Buffer } | null = null;
  if (!config.web_tls_disable) {
    if (config.web_tls_cert_file !== '') {
      const m = loadTlsMaterial(config.web_tls_cert_file, config.web_tls_key_file);
      tls = { cert: m.cert, key: m.key };
    } else {
      const generated = await selfSignedWebCert(serverStateDir(config), now());
      if (generated.generated) logger.info({ cert: generated.certFile }, 'web port: generated a self-signed certificate');
      tls = generated;
    }
  }
  const app = createWebApp({
    users,
    sessions,
    throttle,
    services: opts.services,
    routes: opts.routes ?? [],
    staticDir: opts.staticDir === undefined ? DEFAULT_STATIC_DIR : opts.staticDir,
    apiKeys: opts.apiKeys,
    clientIp: opts.clientIp,
    logger,
    now,
  });
  const web = await listenWebServer(app, { host: config.web_host || config.host, port: config.web_port, tls, logger });
  let setupLink: string | null = null;
  let setupToken: string | null = null;
  try {
    const token = await issueSetupToken(users, now());
    if (token) {
      setupToken = token.token;
      setupLink = `${web.url}/setup?token=${token.token}`;
    }
  } catch (err) {
    await web.close();
    throw err;
  }
  const sweep = setInterval(() => {
    users.deleteExpiredSessions(now()).catch((err: unknown) => logger.error({ err }, 'deleting expired sessions failed'));
  }, EXPIRED_SWEEP_MS);
  sweep.unref();
  return {
    web,
    app,
    setupLink,
    setupToken,
    close: async () => {
      clearInterval(sweep);
      await web.close();
    },
  };
}

