/**
 * The monitoring composition root: starts the control loops (src/monitoring/control), then the public APIs
 * built on them: the worker API on its own port (src/api/worker) and the web API handler for the main port
 * (src/api/web). A new API (users, alerts, status pages) is started here beside them. Shutdown runs in the
 * reverse order: the loops stop handing out work, the worker API closes, then the control loops drain.
 */
import { startMonitoring, type MonitoringContext } from '../monitoring/control/index.js';
import type { MonitoringStore } from '../store/monitoring.js';
import type { WorkerStreams } from '../monitoring/control/worker-streams.js';
import type { StoredListener } from '../monitoring/control/ingest.js';
import { startWorkerApi } from '../api/worker/server.js';
import { createWebHandler, type WebHandler } from '../api/web/handler.js';
import { isWorkerAuthOpen } from '../auth/worker-token.js';

export type { MonitoringTuning } from '../monitoring/control/index.js';

export type MonitoringPlaneContext = MonitoringContext;

export interface MonitoringHandle {
  /** Port of the worker API. */
  workerPort: number;
  /**
   * Serves /vantage.v1.MonitorsService/* on the main port; false for any other path. Called with the principal
   * the management pipeline established, so the request is authenticated once.
   */
  webHandler: WebHandler;
  store: MonitoringStore;
  streams: WorkerStreams;
  /** Runs scheduler, dispatcher, reaper and rollups once, in order (tests, and the CLI's immediate feedback). */
  runOnce(): Promise<void>;
  /** Runs a scheduler pass now (monitors were created, changed or removed outside the web API). */
  onMonitorsChanged(): void;
  /** Adds a listener told of every stored result with its job (the backend probes feed the latency matrix). */
  onStored(listener: StoredListener): void;
  stop(): Promise<void>;
}

/** Starts the monitoring control loops, the worker API and the web API handler. */
export async function startMonitoringPlane(ctx: MonitoringPlaneContext): Promise<MonitoringHandle> {
  const control = await startMonitoring(ctx);
  const { config: cfg, logger } = control;

  if (isWorkerAuthOpen(cfg)) {
    logger.warn('worker API: neither cluster_token nor server_key is set, so any client can register as a worker');
  }
  // A worker port that cannot be opened fails the start; the loops already running are stopped first.
  const api = await startWorkerApi({
    host: cfg.worker_host || cfg.host,
    port: cfg.worker_port,
    auth: cfg,
    tlsCertFile: cfg.tls_cert_file,
    tlsKeyFile: cfg.tls_key_file,
    session: {
      store: control.store,
      streams: control.streams,
      dispatcher: control.dispatcher,
      ingest: control.ingest,
      activity: control.activity,
      now: control.now,
      timers: control.timers,
      leaseMs: cfg.lease_timeout_seconds * 1000,
      renewIntervalMs: cfg.lease_renew_interval_seconds * 1000,
      leadMs: cfg.dispatch_lead_ms,
      registerTimeoutMs: control.tuning.registerTimeoutMs ?? cfg.stream_pong_timeout_seconds * 1000,
      logger,
      metrics: control.metrics,
    },
  }).catch(async (err: unknown) => {
    await control.stop();
    throw err;
  });
  logger.info({ workerPort: api.port, tls: api.tls }, 'monitoring control plane started');

  const webHandler = createWebHandler({
    store: control.store,
    streams: control.streams,
    now: control.now,
    auth: cfg,
    onMonitorsChanged: () => control.onMonitorsChanged(),
  });

  let stopped: Promise<void> | null = null;
  return {
    workerPort: api.port,
    webHandler,
    store: control.store,
    streams: control.streams,
    runOnce: () => control.runOnce(),
    onMonitorsChanged: () => control.onMonitorsChanged(),
    onStored: (l) => control.ingest.onStored(l),
    stop: () =>
      (stopped ??= (async () => {
        await control.quiesce();
        await api.close();
        await control.stop();
      })()),
  };
}

/** `startMonitoringPlane` when `monitoring_enabled` (the default); null when it is off. */
export async function startMonitoringIfEnabled(ctx: MonitoringPlaneContext): Promise<MonitoringHandle | null> {
  if (ctx.config.monitoring_enabled === false) return null;
  return startMonitoringPlane(ctx);
}
