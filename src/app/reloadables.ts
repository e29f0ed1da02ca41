import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server.js';
import type { Reloadable } from '../http/reload.js';
import type { SecurityRuntime } from '../http/security-runtime.js';
import { applyServerTimeouts } from '../http/timeouts.js';
import { loadTlsMaterial, type SecureContextTarget } from '../http/tls.js';

/** What a SIGHUP reload touches on a running server. */
export interface ReloadTargets {
  security: SecurityRuntime;
  engine: { setTiers(tiers: ServerConfig['tiers'], defaultTier?: string): void };
  logger: Pick<Logger, 'level'>;
  httpServer: { requestTimeout: number; headersTimeout: number; keepAliveTimeout: number };
  /** Set when serving HTTPS: the certificate files are re-read on every reload. */
  tlsServer: SecureContextTarget | null;
  /** Status pages (absent without monitoring): server.yml pages and windows re-applied, cache period and uptime rule. */
  statusPages?: { applyConfig(next: ServerConfig): Promise<void> } | null;
}

/**
 * The reload components of a running server: security policy/keys/limits, tiers, log level, server timeouts,
 * the TLS certificate, and the server.yml status pages and maintenance windows. Each prepares (and may refuse) before any of them commits.
 */
export function serverReloadables(t: ReloadTargets, logger?: Pick<Logger, 'error'>): Reloadable<ServerConfig>[] {
  const statusPages = t.statusPages;
  return [
    t.security.reloadable(),
    { name: 'tiers', prepare: (next) => () => t.engine.setTiers(next.tiers, next.default_tier) },
    {
      name: 'log_level',
      prepare: (next) => () => {
        t.logger.level = next.log_level;
      },
    },
    { name: 'timeouts', prepare: (next) => () => applyServerTimeouts(t.httpServer, next) },
    {
      name: 'tls',
      prepare: (next) => {
        const server = t.tlsServer;
        if (server === null || next.tls_cert_file === '' || next.tls_key_file === '') return () => {};
        const m = loadTlsMaterial(next.tls_cert_file, next.tls_key_file);
        return () => server.setSecureContext({ cert: m.cert, key: m.key });
      },
    },
    ...(statusPages
      ? [
          {
            name: 'status_pages',
            // Validated by the config load already; the upsert runs behind the reload (monitor names resolve then).
            prepare: (next: ServerConfig) => () =>
              void statusPages.applyConfig(next).catch((err: unknown) => logger?.error({ err }, 'server.yml status pages or maintenance not applied on reload')),
          },
        ]
      : []),
  ];
}
