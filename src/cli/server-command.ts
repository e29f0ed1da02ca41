import { renameSync, writeFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { loadServerConfig } from '../config/load.js';
import type { ServerConfig } from '../config/server.js';
import { startDemoBackend, type DemoBackend } from '../app/demo/backend.js';
import { spawnLocalAgent, type LocalAgent } from '../app/demo/local-agent.js';
import { installRejectionGuard } from '../platform/process-guards.js';
import { ConfigReloader, onSighup, SERVER_LIVE_KEYS } from '../http/reload.js';
import { serverPortClaims, startServer, type RunningServer } from '../app/server.js';
import { serverStateDir } from '../app/web.js';
import { describePortError, PortsUnavailableError } from '../http/port-check.js';
import { ServerLockError } from '../store/index.js';

export interface RunServerOptions {
  logger: Logger;
  configPath?: string;
  /** Also run a demo backend on 127.0.0.1:11000 and a local agent reporting this machine (`npm start`). */
  withAgent?: boolean;
  /** Port of the demo backend started with `withAgent` (default 11000; 0 = any free port). */
  demoPort?: number;
  /** Writes {"port","url","webUrl","pid"} here once listening (default: $VANTAGE_PORT_FILE); for tests and scripts using port 0. */
  portFile?: string;
  /** Stops the server like SIGTERM (in-process use and tests). */
  signal?: AbortSignal;
  /** Installs SIGINT/SIGTERM handlers, and SIGHUP for a config reload (default true). */
  handleSignals?: boolean;
  /**
   * Re-reads the configuration on SIGHUP (throws ConfigError when invalid). Default: `configPath` and the
   * VANTAGE_* environment, without CLI flags (pass a loader that re-applies them to keep flag overrides).
   */
  loadConfig?: () => ServerConfig;
}

/**
 * The configuration problem behind a failed start, one line naming the settings; null for anything else.
 * Ports are checked before anything starts (every taken one named); a port taken between that check and the
 * listen still names its setting.
 */
function startFailure(config: ServerConfig, err: unknown): string | null {
  if (err instanceof PortsUnavailableError) return err.problems.join('; ');
  if (err instanceof ServerLockError) return err.message;
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e.port === undefined) return null;
  const claim = serverPortClaims(config, { web: true }).find((c) => c.port === e.port) ?? { key: 'port', host: e.address ?? config.host, port: e.port };
  return describePortError(claim, e);
}

function writePortFile(path: string, server: RunningServer): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ port: server.port, url: server.url, webUrl: server.web?.web.url ?? null, dashboardUrl: server.dashboardUrl, pid: process.pid }) + '\n');
  renameSync(tmp, path);
}

/**
 * Waits until the local agent's backend is routable for the default tier, so `/route` answers as soon as we
 * say ready. Its first reports can show the CPU burst of starting up; a few more seconds of samples fix that.
 */
async function waitForLocalBackend(server: RunningServer, endpoint: string, timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  let why = 'it has not reported yet';
  while (Date.now() < deadline) {
    const b = server.engine.backends().find((x) => x.endpoint === endpoint);
    if (b !== undefined && b.stats !== null) {
      const row = server.engine.explain({ tier: server.engine.defaultTier }).rows.find((r) => r.clientId === b.clientId);
      if (row?.eligible) return null;
      why = `not eligible for tier "${server.engine.defaultTier}": ${row?.detail ?? row?.reason ?? 'unknown'}`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return why;
}

/**
 * `vantage server`: starts the server, prints the startup summary, and runs until SIGTERM/SIGINT (or
 * `opts.signal`), then shuts down gracefully — stop accepting, finish in-flight requests up to
 * shutdown_timeout_seconds, flush pending writes, close the database. A second signal exits at once.
 * Resolves with the exit code (0 after a clean shutdown, 2 when a port cannot be listened on, 1 when startup
 * or shutdown failed otherwise).
 */
export async function runServer(config: ServerConfig, opts: RunServerOptions): Promise<number> {
  const { logger } = opts;
  // Unhandled rejections: logged and counted, fatal only with exit_on_unhandled_rejection (read live).
  let current = config;
  let countRejection = (): void => {};
  const removeRejectionGuard = installRejectionGuard({
    logger,
    exitOnUnhandledRejection: () => current.exit_on_unhandled_rejection,
    count: () => countRejection(),
  });

  // SIGTERM/SIGINT are handled from the first moment, not only once the server is ready: a signal during start-up
  // gives up a database wait (nothing started yet: exit 0), or else lets the start finish and then shuts down
  // gracefully at once, so a stop requested while /health already answers is still a clean one. A second signal
  // exits at once.
  let stopRequested: string | null = null;
  let onStopRequested: ((sig: string) => void) | null = null;
  const startupAbort = new AbortController();
  const requestStop = (sig: string) => {
    if (stopRequested !== null) return;
    stopRequested = sig;
    startupAbort.abort();
    onStopRequested?.(sig);
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    requestStop(sig);
  };
  if (opts.handleSignals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  opts.signal?.addEventListener('abort', () => requestStop('abort'), { once: true });
  if (opts.signal?.aborted) requestStop('abort');

  // With the local agent (npm start), the first /route requests wait until its backend has reported (≤ 20 s),
  // instead of answering 503 from an empty fleet during the second it takes the agent to register.
  let openRouteGate: () => void = () => {};
  const routeGate = opts.withAgent ? new Promise<void>((resolve) => (openRouteGate = resolve)) : undefined;
  let server: RunningServer;
  const demoPort = opts.demoPort ?? 11000;
  try {
    server = await startServer(config, {
      logger,
      signal: startupAbort.signal,
      routeGate,
      web: true,
      serverLock: true,
      extraPorts: opts.withAgent ? [{ key: '--demo-port', host: '127.0.0.1', port: demoPort, alternative: 'or --demo-port 0 for any free port' }] : [],
    });
  } catch (err) {
    removeRejectionGuard();
    if (stopRequested !== null) {
      logger.info({ signal: stopRequested }, 'stopped during start-up, before anything was serving');
      return 0;
    }
    const why = startFailure(config, err);
    if (why === null) {
      logger.error({ err }, 'server failed to start');
      return 1;
    }
    // A port or server-lock problem is a configuration problem: one line naming every setting, no stack trace, exit 2.
    logger.error(`server failed to start: ${why}; nothing was started`);
    return 2;
  }
  countRejection = () => server.security.unhandledRejections?.inc();

  // SIGHUP: re-read server.yml; tiers, keys, allow-list, rate limits, CORS, timeouts, log level and the TLS
  // certificate apply at once; an invalid file is refused with the reason and the running config stays.
  const reloader = new ConfigReloader<ServerConfig>({
    load: opts.loadConfig ?? (() => loadServerConfig({ file: opts.configPath, env: process.env }).config),
    initial: config,
    logger,
    liveKeys: SERVER_LIVE_KEYS,
  });
  for (const r of server.reloadables) reloader.register(r);
  reloader.register({
    name: 'process',
    prepare: (next) => () => {
      current = next;
    },
  });
  const removeSighup =
    opts.handleSignals !== false
      ? onSighup(() => {
          logger.info({ config: opts.configPath ?? null }, 'SIGHUP: reloading configuration');
          reloader.reload();
        })
      : () => {};

  let demo: DemoBackend | null = null;
  let agent: LocalAgent | null = null;
  if (opts.withAgent) {
    try {
      demo = await startDemoBackend({ host: '127.0.0.1', port: demoPort });
      logger.info({ url: demo.url }, 'demo backend listening (built-in, answers /health and echoes JSON)');
      // With worker certificates, the local agent enrolls itself: a one-use, 10-minute token for it alone,
      // handed over in its environment (readable only by this user), with the CA fingerprint to pin.
      const pki = server.monitoring?.pki ?? null;
      const enrollment = pki ? { token: await pki.createToken({ region: 'global', ttlMs: 600_000, uses: 1, description: 'local agent (--with-agent)' }), caFingerprint: pki.caFingerprint } : null;
      agent = spawnLocalAgent({
        mainScript: fileURLToPath(new URL('./main.js', import.meta.url)),
        serverUrl: server.url,
        serverKey: config.server_key,
        endpointUrl: demo.url,
        // Next to the server's own state (state_dir; else the SQLite file's folder, ./data with PostgreSQL), never
        // under a folder named after a postgres:// URL.
        stateDir: resolvePath(serverStateDir(config), 'agent'),
        workerUrl: server.monitoring ? `${server.monitoring.workerTls ? 'https' : 'http'}://127.0.0.1:${server.monitoring.workerPort}` : null,
        enrollment,
        logger,
      });
      const why = agent ? await waitForLocalBackend(server, demo.url, 20_000) : null;
      if (why !== null) logger.warn(`the local backend is not routable yet (${why}); /route may answer 503 until it is`);
    } catch (err) {
      logger.error({ err }, 'could not start the local demo backend/agent; the server runs without them');
    }
  }
  openRouteGate();

  const tiers = server.engine.tierNames();
  logger.info(
    {
      listening: server.url.replace(/\/\/(127\.0\.0\.1|\[::1\])/, `//${config.host === '' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host}`),
      port: server.port,
      database: config.database,
      config: opts.configPath ?? null,
      tiers,
      default_tier: server.engine.defaultTier,
      auth: server.authEnabled ? 'on' : 'off',
      geoip: server.geoip ? 'on' : 'off',
      sticky_header: config.sticky_header || null,
      monitoring: server.monitoring ? { worker_port: server.monitoring.workerPort } : 'off',
      restored: server.restored,
      local_agent: agent ? 'running' : opts.withAgent ? 'not running' : 'off',
    },
    `vantage server ready on ${server.url} (database ${config.database}; tiers ${tiers.join(', ')}; auth ${server.authEnabled ? 'on' : 'off'})`,
  );
  if (server.web) {
    logger.info({ dashboard: server.web.web.url, tls: server.web.web.tls }, `dashboard: ${server.web.web.url}/`);
    if (server.dashboardUrl) logger.info({ dashboard: server.dashboardUrl, tls: server.tls }, `dashboard on the main port: ${server.dashboardUrl}`);
    if (server.web.setupLink) {
      const onMain = server.dashboardUrl && server.web.setupToken ? ` (or ${server.dashboardUrl}setup?token=${server.web.setupToken})` : '';
      logger.info({ setup: server.web.setupLink }, `no user exists yet: create the first admin at ${server.web.setupLink}${onMain} (valid once, for 1 h)`);
    }
  }
  const portFile = opts.portFile ?? process.env.VANTAGE_PORT_FILE;
  if (portFile) writePortFile(portFile, server);

  const stopSignal = new Promise<string>((resolve) => {
    if (stopRequested !== null) resolve(stopRequested);
    else onStopRequested = resolve;
  });

  const sig = await stopSignal;
  logger.info({ signal: sig, in_flight: server.inFlight(), timeout_s: config.shutdown_timeout_seconds }, 'shutting down');
  let code = 0;
  try {
    await agent?.stop();
    await server.close();
    await demo?.close();
    logger.info('server stopped');
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    code = 1;
  }
  removeSighup();
  removeRejectionGuard();
  return code;
}
