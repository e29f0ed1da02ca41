import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { ServerConfig } from '../config/server.js';
import { RoutingEngine } from '../lb/routing/engine.js';
import { acquireServerLock, isPostgresUrl, type OpenedStore } from '../store/index.js';
import { openStoreWhenReachable } from './database-wait.js';
import type { ApiDeps } from '../lb/handlers/deps.js';
import { createRequestRouter, type FallbackHandler, type RequestRouter } from '../http/dispatch.js';
import { HttpError } from '../http/errors.js';
import { openGeoIp } from '../lb/geoip.js';
import {
  clientsHandler,
  healthHandler,
  metricsHandler,
  purgeHandler,
  purgePendingHandler,
} from '../lb/handlers/clients.js';
import { registerHandler } from '../lb/handlers/register.js';
import { releaseHandler, routeHandler } from '../lb/handlers/route.js';
import { statsHandler } from '../lb/handlers/stats.js';
import { createServerMetrics } from '../lb/metrics.js';
import { VantageResponse } from '../http/response.js';
import { startMonitoringIfEnabled, type MonitoringHandle } from './monitoring.js';
import { startBackendProbes } from './backend-probes.js';
import { latencyHandler } from '../lb/handlers/latency.js';
import {
  dashboardPipeline,
  guardUpgrade,
  healthPipeline,
  managementPipeline,
  managementStages,
  proxiedPipeline,
  type ManagementRoute,
  type ManagementStages,
  type RequestContext,
} from '../http/pipelines.js';
import { socketJsonError } from '../http/raw-error.js';
import { pruneStats } from '../lb/retention.js';
import { restoreFleet } from '../lb/restore.js';
import { followReplicas } from '../lb/fanout.js';
import type { Reloadable } from '../http/reload.js';
import { serverReloadables } from './reloadables.js';
import { SecurityRuntime } from '../http/security-runtime.js';
import { closeSilentConnections, httpServerTimeouts } from '../http/timeouts.js';
import { loadTlsMaterial, type SecureContextTarget } from '../http/tls.js';
import { createTlsServer, type ConnectionTracker } from '../http/http2.js';
import { requestClientIp } from '../http/client-address.js';
import { answerClientErrors, connectableHost, hostForUrl, listen } from '../http/listen.js';
import { checkPortsFree, type PortClaim } from '../http/port-check.js';
import { WriteBehind } from '../lb/write-behind.js';
import { settleSticky } from '../lb/sticky-settle.js';
import { startHealthChecker, type HealthCheckerHandle } from '../lb/health/index.js';
import { createProxy, pathOf, type Proxy } from '../lb/proxy/index.js';
import { serverStateDir, startWebPlatform, type WebPlatform } from './web.js';
import { createLiveStream, type LiveStream } from '../api/web/live.js';
import { createOverviewCache } from '../api/web/overview-cache.js';
import { backgroundTimers } from '../platform/timers.js';
import type { WebApp, WebRoute } from '../api/web/server.js';
import { MOUNT_METHODS, mountedWebHandler } from '../api/web/mount.js';
import { MANAGEMENT_PATHS, MANAGEMENT_PREFIXES } from '../config/server.js';
import { startStatusPages, type StatusPagesPlane } from './status-pages.js';

export interface StartServerOptions {
  logger: Logger;
  /** An opened store to use (not closed by close()); default: openStore(config), closed by close(). */
  store?: OpenedStore;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Replaces stages of the management pipeline by name (tests); default: all built on the SecurityRuntime. */
  stages?: Partial<ManagementStages>;
  /** Called each time an X-API-Key is hashed and compared (tests count authentications with it). */
  onKeyVerify?: () => void;
  /** Non-management paths (proxy). Can also be set later with `setFallback`. */
  fallback?: FallbackHandler;
  /** Seconds in Retry-After of 503 no-capacity answers (default 5). */
  retryAfterSeconds?: number;
  /** Aborts waiting for an unreachable PostgreSQL at start (startServer then rejects). */
  signal?: AbortSignal;
  /** POST /route waits for this before its first decisions (see ApiDeps.routeGate); it must settle. */
  routeGate?: Promise<void>;
  /** More ports the caller will listen on after the server (the --with-agent demo backend), checked with ours. */
  extraPorts?: readonly PortClaim[];
  /**
   * Start the web listener on web_port (dashboard, sessions; app/web.ts). `vantage server` does; in-process
   * callers (tests) opt in. Default false.
   */
  web?: boolean | { routes?: WebRoute[]; staticDir?: string | null };
  /**
   * Take `<database>.server.lock` before a SQLite file is opened (store/sqlite/server-lock.ts), released by
   * close(): one server per SQLite file. `vantage server` does; in-process callers (tests) opt in. Default false.
   */
  serverLock?: boolean;
}

/** Every port this server will listen on, with the setting that names it (port 0 is never taken). */
export function serverPortClaims(config: ServerConfig, opts: { web?: boolean } = {}): PortClaim[] {
  const claims: PortClaim[] = [{ key: 'port', host: config.host, port: config.port }];
  if (opts.web) claims.push({ key: 'web_port', host: config.web_host || config.host, port: config.web_port });
  if (config.monitoring_enabled !== false) {
    claims.push({ key: 'worker_port', host: config.worker_host || config.host, port: config.worker_port, alternative: 'or monitoring_enabled: false' });
  }
  return claims;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** http(s)://host:port, with a connectable host (127.0.0.1 for 0.0.0.0). */
  readonly url: string;
  readonly tls: boolean;
  readonly engine: RoutingEngine;
  readonly registry: Registry;
  readonly store: OpenedStore;
  readonly writeBehind: WriteBehind;
  /** node:http Server; with TLS an http2 Http2SecureServer (HTTP/2 + HTTP/1.1), or an https.Server when http2 is false. */
  readonly httpServer: Server;
  readonly monitoring: MonitoringHandle | null;
  readonly geoip: boolean;
  readonly authEnabled: boolean;
  /** Allow-list, rate limits, CORS, security headers, keys: the live hardening state. */
  readonly security: SecurityRuntime;
  /** Components a SIGHUP config reload applies (see http/reload.ts ConfigReloader). */
  readonly reloadables: Reloadable<ServerConfig>[];
  /** What was restored from the database at start. */
  readonly restored: { clients: number; stats: number; sticky: number };
  /** The built-in reverse proxy (src/lb/proxy); null when proxy_endpoints is empty. */
  readonly proxy: Proxy | null;
  /** The active health checker (src/lb/health); a no-op handle when health_check_enabled is false. */
  readonly health: HealthCheckerHandle;
  /** The web listener (web_port) when started (StartServerOptions.web), else null. */
  readonly web: WebPlatform | null;
  /** `<url><dashboard_path>`: the dashboard on this (main) port; null when the web platform is off or dashboard_path is "". */
  readonly dashboardUrl: string | null;
  setFallback(fn: FallbackHandler | null): void;
  inFlight(): number;
  /** Runs the stats-retention job once now; returns the number of rows deleted. */
  runCleanup(): Promise<number>;
  /**
   * Graceful stop: stop accepting, let in-flight requests finish (up to timeoutMs, default
   * shutdown_timeout_seconds), then drop remaining connections, stop monitoring, flush pending writes and
   * close the database. Idempotent.
   */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}

const RESERVATIONS_PREFIX = '/reservations/';
const MONITORING_PREFIX = '/vantage.v1.';
const DAY_MS = 86_400_000;

/** Starts the management API (and, when enabled, the monitoring control plane) on the configured address. */
export async function startServer(config: ServerConfig, opts: StartServerOptions): Promise<RunningServer> {
  const { logger } = opts;
  const now = opts.now ?? Date.now;
  // Before anything is opened or created (the SQLite file included): every port free, or all taken ones named.
  await checkPortsFree([...serverPortClaims(config, { web: opts.web !== undefined && opts.web !== false }), ...(opts.extraPorts ?? [])]);
  const ownsStore = opts.store === undefined;
  // One server per SQLite file: the lock is taken before the file is opened (CLI commands never take it).
  const serverLock =
    ownsStore && opts.serverLock === true && !isPostgresUrl(config.database) && config.database !== ':memory:'
      ? acquireServerLock(config.database, {
          onTakeover: (stale) => logger.warn({ database: config.database, stale_pid: stale.pid }, `taking over the stale server lock of ${config.database} (pid ${stale.pid ?? 'unknown'} is not running)`),
        })
      : null;
  let store: OpenedStore;
  try {
    store = opts.store ?? (await openStoreWhenReachable(config, { logger, now, listen: config.port === 0 ? null : { host: config.host, port: config.port }, signal: opts.signal }));
  } catch (err) {
    serverLock?.release();
    throw err;
  }
  const cleanupTimers: NodeJS.Timeout[] = [];
  const cleanupFns: Array<() => void> = [];
  try {
    const registry = new Registry();
    // On PostgreSQL other replicas route on what this one writes: flush within 200 ms so that a stats report
    // is routable everywhere within a second (SQLite keeps the 1 s default).
    // Where another replica's sticky choice won in the database, this engine adopts it (before the waiting
    // /route answers, which then name the winner).
    const writeBehind = new WriteBehind({
      store: store.lb,
      logger,
      flushIntervalMs: store.engine === 'postgres' ? 200 : undefined,
      onAdopt: (winners) => {
        engine.restoreSticky(winners);
        metrics.stickyAdopted(winners.length);
      },
    });
    const engine = new RoutingEngine({
      tiers: config.tiers,
      defaultTier: config.default_tier,
      staleMinutes: config.stale_minutes,
      pendingTimeoutSeconds: config.pending_allocation_timeout_seconds,
      stickyAffinity: config.sticky_affinity_enabled,
      healthCheckEnabled: config.health_check_enabled,
      now,
      onStickyChange: (e) => writeBehind.stickyChange(e),
      routingDistance: config.routing_distance,
      rttKmPerMs: config.rtt_km_per_ms,
      regionProbeIntervalMs: config.region_probe_interval_seconds * 1000,
    });
    engine.latency.setRegionLocations(new Map(Object.entries(config.region_locations)));
    const restored = await restoreFleet(store.lb, engine, logger);
    // Registrations, stats and sticky assignments committed by other replicas (PostgreSQL; nothing on SQLite).
    const stopFollowing = followReplicas(store.lb, engine, logger);
    cleanupFns.push(stopFollowing);
    const geo = await openGeoIp(config.geoip_db_path, logger);
    const metrics = createServerMetrics(registry, {
      counts: () => engine.counts(),
      pendingWrites: () => writeBehind.pending(),
      latency: () => engine.latency.entries(),
    });
    const deps: ApiDeps = {
      engine,
      lb: store.lb,
      writeBehind,
      metrics,
      registry,
      geo,
      logger,
      now,
      stickyHeader: config.sticky_header === '' ? null : config.sticky_header.toLowerCase(),
      stickyByIp: config.sticky_by_ip,
      retryAfterSeconds: opts.retryAfterSeconds ?? 5,
      lastHealthCheck: () => null,
      routeGate: null,
      databaseDown: () => store.databaseDown(),
    };
    if (opts.routeGate) {
      deps.routeGate = opts.routeGate.finally(() => {
        deps.routeGate = null;
      });
    }

    const tls = config.tls_cert_file !== '' && config.tls_key_file !== '';
    // Reads and checks the certificate pair now: a bad file is a startup error naming the setting.
    const tlsMaterial = tls ? loadTlsMaterial(config.tls_cert_file, config.tls_key_file) : null;
    const security = new SecurityRuntime({ config, https: tls, registry, now, onKeyVerify: opts.onKeyVerify });
    // Maintenance windows and public status pages; alerting consults the same calendar.
    const statusPages: StatusPagesPlane | null = config.monitoring_enabled === false ? null : await startStatusPages({ config, store, logger, now });
    // One overview for every reader (GetOverview on both ports, the live stream): computed at most every 2 s.
    const overviewCache = createOverviewCache({ dashboard: store.dashboard, now });
    const monitoring = await startMonitoringIfEnabled({
      config,
      logger,
      store: store.monitoring,
      pkiStore: store.pki,
      engine: store.engine,
      leader: store.leader,
      stateDir: serverStateDir(config),
      registry,
      now,
      web: {
        dashboard: store.dashboard,
        overviewCache,
        engine,
        statusPages: store.statusPages,
        onMaintenanceChanged: () => void statusPages?.calendar.reload().catch((err: unknown) => logger.error({ err }, 'maintenance calendar reload failed')),
      },
      alerting: { store: store.alerts, config, maintenance: statusPages?.calendar },
    });
    // server.yml status pages and windows: after the monitoring plane applied `monitors:`, so names resolve.
    if (statusPages) {
      await statusPages.applyConfig(config).catch(async (err: unknown) => {
        await statusPages.close();
        await monitoring?.stop();
        throw err;
      });
    }
    const probes = monitoring === null ? null : startBackendProbes({
            config,
            engine,
            monitoring,
            isLeader: () => store.leader.isLeader(),
            now,
            logger,
            announceRtt: store.lb.announceRtt ? (samples) => store.lb.announceRtt!(samples) : undefined,
          });

    const route = (name: string, methods: ManagementRoute['methods'], body: ManagementRoute['body'] = 'none', auth = true): ManagementRoute => ({
      name,
      methods,
      auth,
      body,
    });
    const purge = purgeHandler(deps);
    const purgePending = purgePendingHandler(deps);
    const routes = new Map<string, ManagementRoute>([
      ['/register', route('/register', { POST: registerHandler(deps) }, 'json')],
      ['/stats', route('/stats', { POST: statsHandler(deps) }, 'json')],
      ['/route', route('/route', { POST: routeHandler(deps) }, 'json')],
      ['/health', route('/health', { GET: healthHandler(deps), HEAD: healthHandler(deps) }, 'none', false)],
      ['/clients', route('/clients', { GET: clientsHandler(deps) })],
      ['/latency', route('/latency', { GET: latencyHandler(deps) })],
      ['/clients/purge', route('/clients/purge', { POST: purge, DELETE: purge })],
      ['/clients/purge-pending', route('/clients/purge-pending', { POST: purgePending, DELETE: purgePending })],
      ['/metrics', route('/metrics', { GET: metricsHandler(deps) })],
    ]);
    // Web API calls are authenticated by the management pipeline; the web handler takes the principal from it.
    const monitoringWeb = (ctx: Pick<RequestContext, 'req' | 'res' | 'path' | 'principal'>) => {
      if (monitoring === null || !monitoring.webHandler(ctx.req, ctx.res, ctx.principal)) {
        throw new HttpError(404, `not found: ${ctx.path}`);
      }
    };
    const prefixes = [
      { prefix: RESERVATIONS_PREFIX, route: route('/reservations/{id}', { DELETE: releaseHandler(deps, RESERVATIONS_PREFIX) }) },
      { prefix: MONITORING_PREFIX, route: route('/vantage.v1.*', { POST: monitoringWeb, GET: monitoringWeb }, 'stream') },
    ];

    // The one list of management paths (config/server.ts) is what dashboard_path is checked against.
    for (const p of routes.keys()) if (!(MANAGEMENT_PATHS as readonly string[]).includes(p)) throw new Error(`management path ${p} missing from MANAGEMENT_PATHS`);
    for (const p of prefixes) if (!(MANAGEMENT_PREFIXES as readonly string[]).includes(p.prefix)) throw new Error(`management prefix ${p.prefix} missing from MANAGEMENT_PREFIXES`);
    const stages: ManagementStages = { ...managementStages(security, logger), ...opts.stages };
    // The dashboard under dashboard_path (api/web/mount.ts): a management path like the others, so it wins over
    // proxy_endpoints ("/*" included); its app is the web port's, set once the web platform has started.
    const webEnabled = opts.web !== undefined && opts.web !== false;
    const dashboardPath = webEnabled && config.dashboard_path !== '' ? config.dashboard_path : null;
    let webApp: WebApp | null = null;
    if (dashboardPath !== null) {
      const handler = mountedWebHandler({ base: dashboardPath, https: tls, app: () => webApp });
      const dashboard: ManagementRoute = {
        name: 'dashboard',
        methods: Object.fromEntries(MOUNT_METHODS.map((m) => [m, handler])),
        auth: false,
        body: 'stream',
        pipeline: dashboardPipeline(stages, logger),
      };
      routes.set(dashboardPath.slice(0, -1), dashboard);
      prefixes.push({ prefix: dashboardPath, route: dashboard });
    }
    const dispatcher: RequestRouter = createRequestRouter({
      routes,
      prefixes,
      management: managementPipeline(stages, logger),
      open: healthPipeline(stages, logger),
      onFinished: (name, status) => metrics.request(name, status),
      logger,
    });
    // Non-management paths (the proxy, else 404) always pass the proxied-traffic pipeline (http/pipelines.ts).
    // The built-in reverse proxy takes non-management paths under proxy_endpoints (management paths always win).
    const proxy: Proxy | null =
      config.proxy_endpoints.length > 0
        ? createProxy({
            config,
            engine,
            logger,
            registry,
            now,
            locate: geo ? (ip: string) => geo.locate(ip) : undefined,
            clientIp: (req) => requestClientIp(req, security.policy().trustedProxies),
            settleSticky: (req, d) => settleSticky({ engine, writeBehind }, req, d),
          })
        : null;
    const proxyFallback: FallbackHandler | null = proxy
      ? (req, res) => {
          if (!proxy.matches(pathOf(req.url ?? '/'))) return false;
          proxy.handle(req, res);
          return true;
        }
      : null;
    dispatcher.setFallback(proxiedPipeline(security, logger, opts.fallback ?? proxyFallback));

    // headersTimeout/requestTimeout/keepAliveTimeout, 1 s timeout checks, Host required (http/timeouts.ts).
    const serverOpts = httpServerTimeouts(config);
    // With TLS and `http2` (default): HTTP/2 via ALPN and HTTP/1.1 on one server (src/http/http2.ts).
    const h2 = tlsMaterial && config.http2 ? createTlsServer({ tls: tlsMaterial, timeouts: serverOpts, policy: () => security.policy(), handler: dispatcher.handle, registry }) : null;
    const tracker: ConnectionTracker | null = h2 ? h2.tracker : null;
    const httpServer: Server = h2
      ? (h2.server as unknown as Server)
      : tlsMaterial
      ? (createHttpsServer({ ...serverOpts, ServerResponse: VantageResponse, cert: tlsMaterial.cert, key: tlsMaterial.key }, dispatcher.handle) as unknown as Server)
      : createHttpServer({ ...serverOpts, ServerResponse: VantageResponse }, dispatcher.handle);
    closeSilentConnections(httpServer, () => security.policy().readHeaderTimeoutMs);
    answerClientErrors(httpServer);
    // WebSocket (and other Upgrade) requests: proxied under proxy_endpoints after the proxied-traffic front's
    // Host/path/rate-limit checks; management paths are never upgraded.
    if (proxy !== null) {
      httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        socket.on('error', () => socket.destroy());
        const path = pathOf(req.url ?? '/');
        const management = routes.has(path) || prefixes.some((p) => path.startsWith(p.prefix));
        if (management || !proxy.matches(path)) {
          socketJsonError(socket, 400, `upgrade not supported on ${path.slice(0, 200)}`);
          return;
        }
        if (guardUpgrade(security, req, socket)) proxy.handleUpgrade(req, socket, head);
      });
    }
    try {
      await listen(httpServer, config.port, config.host);
    } catch (err) {
      await probes?.stop();
      await monitoring?.stop();
      throw err;
    }
    const addr = httpServer.address() as AddressInfo;
    const port = addr.port;
    const host = config.host;
    let web: WebPlatform | null = null;
    let live: LiveStream | null = null;
    if (opts.web !== undefined && opts.web !== false) {
      const webOpts = opts.web === true ? {} : opts.web;
      // The live stream (GET /api/live, Server-Sent Events) is a route of the web port.
      live = createLiveStream({ dashboard: store.dashboard, overviewCache, engine, incidents: store.alerts, now, timers: backgroundTimers, onStored: monitoring ? (l) => monitoring.onStored(l) : undefined, onError: (err) => logger.error({ err }, 'live stream tick failed') });
      try {
        web = await startWebPlatform({
          config,
          store,
          services: {
            store: store.monitoring,
            dashboard: store.dashboard,
            overviewCache,
            engine,
            streams: monitoring?.streams,
            now,
            onMonitorsChanged: () => monitoring?.onMonitorsChanged(),
            ...(monitoring?.alerts ? { alerts: { alerts: monitoring.alerts, alertsStore: store.alerts } } : {}),
            statusPages: store.statusPages,
            onMaintenanceChanged: () => void statusPages?.calendar.reload().catch((err: unknown) => logger.error({ err }, 'maintenance calendar reload failed')),
          },
          apiKeys: () => security.keys(),
          clientIp: (req) => requestClientIp(req, security.policy().trustedProxies),
          routes: [live.route, ...((statusPages?.routes ?? []) as WebRoute[]), ...(webOpts.routes ?? [])],
          staticDir: webOpts.staticDir,
          logger: logger.child({ component: 'web' }),
          now,
        });
        statusPages?.setPublicUrl(web.web.url);
        webApp = web.app;
      } catch (err) {
        live.close();
        httpServer.close();
        httpServer.closeAllConnections();
        await probes?.stop();
        await monitoring?.stop();
        throw err;
      }
    }
    const health = startHealthChecker({ config, engine, logger, registry, now });
    deps.lastHealthCheck = (id) => health.snapshot(id)?.lastCheckMs ?? null;

    const retentionMs = config.stats_retention_days * DAY_MS;
    let cleanupRunning: Promise<number> | null = null;
    const runCleanup = (): Promise<number> => {
      if (cleanupRunning) return cleanupRunning;
      // Sticky assignments nobody used for sticky_idle_ttl_hours: dropped in memory, deleted by the write-behind.
      const idle = engine.pruneSticky(config.sticky_idle_ttl_hours * 3_600_000);
      if (idle > 0) logger.info({ pruned: idle, sticky_idle_ttl_hours: config.sticky_idle_ttl_hours }, 'forgot idle sticky assignments');
      cleanupRunning = pruneStats({ store: store.lb, now, retentionMs })
        .then((n) => {
          if (n > 0) logger.info({ deleted: n, retention_days: config.stats_retention_days }, 'deleted old stats');
          return n;
        })
        .finally(() => {
          cleanupRunning = null;
        });
      return cleanupRunning;
    };
    const cleanupTimer = setInterval(() => {
      runCleanup().catch((err: unknown) => logger.error({ err }, 'stats cleanup failed'));
    }, config.cleanup_interval_seconds * 1000);
    cleanupTimer.unref();
    cleanupTimers.push(cleanupTimer);

    let closing: Promise<void> | null = null;
    const close = (closeOpts: { timeoutMs?: number } = {}): Promise<void> => {
      if (closing) return closing;
      closing = (async () => {
        const timeoutMs = closeOpts.timeoutMs ?? config.shutdown_timeout_seconds * 1000;
        live?.close();
        await statusPages?.close();
        const webClosed = web?.close() ?? Promise.resolve();
        const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        tracker?.goAway(); // HTTP/2: GOAWAY; open streams finish, no new ones
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        // Keep-alive connections that go idle after their last response are closed as they do.
        const idleSweep = setInterval(() => httpServer.closeIdleConnections(), 50);
        // The proxy refuses new requests and gives in-flight ones, SSE streams and WebSocket tunnels the same deadline.
        const proxyDrained = proxy ? proxy.drain(timeoutMs) : Promise.resolve();
        const outcome = await Promise.race([Promise.all([dispatcher.idle(), proxyDrained]).then(() => 'idle' as const), deadline]);
        clearInterval(idleSweep);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          logger.warn({ in_flight: dispatcher.inFlight(), timeout_ms: timeoutMs }, 'shutdown timeout: dropping unfinished requests');
        }
        await health.stop();
        await proxy?.close(); // WebSocket tunnels are not the HTTP server's connections any more
        if (tracker) tracker.destroyAll();
        else httpServer.closeAllConnections();
        await closed;
        await webClosed;
        for (const t of cleanupTimers) clearInterval(t);
        security.close();
        if (cleanupRunning) await cleanupRunning.catch(() => 0);
        try {
          await probes?.stop();
          await monitoring?.stop();
        } catch (err) {
          logger.error({ err }, 'stopping monitoring failed');
        }
        try {
          await writeBehind.close();
        } catch (err) {
          logger.error({ err, pending: writeBehind.pending() }, 'flushing pending writes failed');
        }
        for (const fn of cleanupFns) fn();
        try {
          if (ownsStore) await store.close();
        } finally {
          serverLock?.release();
        }
      })();
      return closing;
    };

    return {
      host,
      port,
      url: `${tls ? 'https' : 'http'}://${hostForUrl(connectableHost(host))}:${port}`,
      tls,
      engine,
      registry,
      store,
      writeBehind,
      httpServer,
      monitoring,
      geoip: geo !== null,
      authEnabled: security.authEnabled(),
      security,
      reloadables: serverReloadables({
        security,
        engine,
        logger,
        httpServer,
        tlsServer: tlsMaterial ? (httpServer as unknown as SecureContextTarget) : null,
        statusPages,
      }, logger),
      restored,
      proxy,
      health,
      web,
      dashboardUrl: web !== null && dashboardPath !== null ? `${tls ? 'https' : 'http'}://${hostForUrl(connectableHost(host))}:${port}${dashboardPath}` : null,
      setFallback: (fn) => dispatcher.setFallback(proxiedPipeline(security, logger, fn)),
      inFlight: () => dispatcher.inFlight(),
      runCleanup,
      close,
    };
  } catch (err) {
    for (const t of cleanupTimers) clearInterval(t);
    for (const fn of cleanupFns) fn();
    if (ownsStore) await store.close().catch(() => undefined);
    serverLock?.release();
    throw err;
  }
}
