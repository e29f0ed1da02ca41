/**
 * The monitoring control plane inside `vantage server`: scheduler → jobs → dispatcher ⇄ worker streams →
 * ingest → rollups, with the lease reaper, stream health and worker inactivity monitors, the worker API on its
 * own port and the MonitorsService handler for the main port.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MonitoringStore } from '../../store/monitoring.js';
import type { LeaderElector } from '../../store/leader.js';
import { startWorkerApi } from '../../api/worker/server.js';
import { isWorkerAuthOpen } from '../../auth/worker-token.js';
import { createWebHandler, type WebHandler } from '../../api/web/handler.js';
import { monitoringConfig, type MonitoringConfig } from '../../config/monitoring.js';
import { Dispatcher } from './job-dispatcher.js';
import { WorkerActivity } from './inactivity.js';
import { IngestQueue } from './ingest.js';
import { createMonitoringMetrics } from './metrics.js';
import { LeaseReaper } from './reaper.js';
import { WorkerRegistry } from './worker-streams.js';
import { RollupWorker } from './rollups.js';
import { Scheduler } from './scheduler.js';
import { StreamHealthMonitor } from './stream-health.js';
import { backgroundTimers, type Timers } from '../../platform/timers.js';

export type { MonitoringConfig } from '../../config/monitoring.js';

/** Intervals that are not user configuration (tests and benches shorten them). */
export interface MonitoringTuning {
  dispatchIntervalMs?: number;
  streamCheckIntervalMs?: number;
  rollupIntervalMs?: number;
  retentionIntervalMs?: number;
  inactivityCheckIntervalMs?: number;
  registerTimeoutMs?: number;
  /** Ready jobs older than this are closed as missed (default: (lease + reaper) × max attempts + 60 s). */
  missedAfterMs?: number;
  ingestMaxBatch?: number;
}

export interface MonitoringContext {
  /** The server config (ServerConfig has every key); missing keys take their defaults. */
  config: Partial<MonitoringConfig>;
  logger: Logger;
  /** The monitoring store and the leader elector of the opened database (see openStore). */
  store: MonitoringStore;
  leader: LeaderElector;
  registry: Registry;
  now?: () => number;
  timers?: Timers;
  /**
   * The main server's API-key check (true, 'server' or 'api' = allowed; false, 'missing', 'wrong' = refused); when
   * absent the handler checks X-API-Key against server_key/api_keys itself.
   */
  checkApiKey?: (req: IncomingMessage) => boolean | string;
  tuning?: MonitoringTuning;
}

export interface MonitoringHandle {
  /** Port of the worker API (0 when monitoring is disabled). */
  workerPort: number;
  /** Serves /vantage.v1.MonitorsService/* on the main port; false for any other path. */
  webHandler: WebHandler;
  store: MonitoringStore;
  workers: WorkerRegistry;
  /** Runs scheduler, dispatcher, reaper and rollups once, in order (tests, and the CLI's immediate feedback). */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMonitoring(ctx: MonitoringContext): Promise<MonitoringHandle> {
  const cfg = monitoringConfig(ctx.config);
  const now = ctx.now ?? Date.now;
  const timers = ctx.timers ?? backgroundTimers;
  const tuning = ctx.tuning ?? {};
  const logger = ctx.logger.child({ component: 'monitoring' });
  const store = ctx.store;
  const workers = new WorkerRegistry();

  if (!cfg.monitoring_enabled) {
    return {
      workerPort: 0,
      webHandler: () => false,
      store,
      workers,
      runOnce: async () => {},
      stop: async () => {},
    };
  }

  const metrics = createMonitoringMetrics(ctx.registry);
  const leader = ctx.leader;
  await leader.start();
  const leaseMs = cfg.lease_timeout_seconds * 1000;
  const reaperMs = cfg.reaper_interval_seconds * 1000;

  const dispatcher = new Dispatcher({ store, registry: workers, now, leaseMs, leadMs: cfg.dispatch_lead_ms, logger, metrics });
  const scheduler = new Scheduler({
    store,
    leader,
    now,
    intervalMs: cfg.scheduler_interval_ms,
    lookaheadMs: cfg.scheduler_lookahead_ms,
    logger,
    metrics,
    onJobs: () => dispatcher.poke(),
  });
  const reaper = new LeaseReaper({
    store,
    leader,
    now,
    intervalMs: reaperMs,
    maxAttempts: cfg.job_max_attempts,
    missedAfterMs: tuning.missedAfterMs ?? (leaseMs + reaperMs) * cfg.job_max_attempts + 60_000,
    logger,
    metrics,
    onRequeued: () => dispatcher.poke(),
  });
  const ingest = new IngestQueue({ store, now, maxBatch: tuning.ingestMaxBatch, logger, metrics });
  const activity = new WorkerActivity({ store, leader, now, inactiveAfterMs: cfg.worker_inactive_seconds * 1000, logger });
  const health = new StreamHealthMonitor({
    registry: workers,
    now,
    config: { pingIntervalMs: cfg.stream_ping_interval_seconds * 1000, pongTimeoutMs: cfg.stream_pong_timeout_seconds * 1000 },
    checkIntervalMs: tuning.streamCheckIntervalMs,
    logger,
    metrics,
  });
  const rollups = new RollupWorker({
    store,
    leader,
    now,
    retentionDays: {
      results: cfg.results_retention_days,
      rollup1m: cfg.rollup_1m_retention_days,
      rollup1h: cfg.rollup_1h_retention_days,
      rollup1d: cfg.rollup_1d_retention_days,
    },
    logger,
    metrics,
  });

  if (isWorkerAuthOpen(cfg)) {
    logger.warn('worker API: neither cluster_token nor server_key is set, so any client can register as a worker');
  }
  const workerApi = await startWorkerApi({
    host: cfg.worker_host || cfg.host,
    port: cfg.worker_port,
    auth: cfg,
    tlsCertFile: cfg.tls_cert_file,
    tlsKeyFile: cfg.tls_key_file,
    session: {
      store,
      registry: workers,
      dispatcher,
      ingest,
      activity,
      now,
      timers,
      leaseMs,
      renewIntervalMs: cfg.lease_renew_interval_seconds * 1000,
      leadMs: cfg.dispatch_lead_ms,
      registerTimeoutMs: tuning.registerTimeoutMs ?? cfg.stream_pong_timeout_seconds * 1000,
      logger,
      metrics,
    },
  });

  scheduler.start(timers);
  dispatcher.start(tuning.dispatchIntervalMs ?? 100, timers);
  reaper.start(timers);
  health.start(timers);
  activity.start(tuning.inactivityCheckIntervalMs ?? Math.min(10_000, (cfg.worker_inactive_seconds * 1000) / 3), timers);
  rollups.start({ intervalMs: tuning.rollupIntervalMs ?? 2_000, retentionIntervalMs: tuning.retentionIntervalMs ?? 3_600_000, timers });
  logger.info({ workerPort: workerApi.port, tls: workerApi.tls }, 'monitoring control plane started');

  const webHandler = createWebHandler({
    store,
    registry: workers,
    now,
    auth: cfg,
    checkApiKey: ctx.checkApiKey,
    onMonitorsChanged: () => {
      void scheduler.tick().catch((err: unknown) => logger.error({ err }, 'scheduler pass failed'));
    },
  });

  let stopped = false;
  return {
    workerPort: workerApi.port,
    webHandler,
    store,
    workers,
    async runOnce() {
      await scheduler.tick();
      await dispatcher.pass();
      await reaper.tick();
      await rollups.tick();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await scheduler.stop();
      await dispatcher.stop();
      await reaper.stop();
      await health.stop();
      await workerApi.close();
      await ingest.close();
      await activity.stop();
      await rollups.tick().catch(() => 0);
      await rollups.stop();
      await leader.stop();
      logger.info('monitoring control plane stopped');
    },
  };
}
