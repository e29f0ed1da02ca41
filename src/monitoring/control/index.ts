/**
 * The monitoring control loops inside `vantage server`: scheduler → jobs → job dispatcher ⇄ worker streams →
 * ingest → rollups, with the lease reaper, stream health and worker inactivity monitors. The public APIs that
 * feed them (the worker API, the web API) are started by the composition root, src/app/monitoring.ts, from
 * what `startMonitoring` returns.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MonitoringStore } from '../../store/monitoring.js';
import type { LeaderElector } from '../../store/leader.js';
import { monitoringConfig, type MonitoringConfig } from '../../config/monitoring.js';
import { JobDispatcher } from './job-dispatcher.js';
import { WorkerActivity } from './inactivity.js';
import { IngestQueue } from './ingest.js';
import { createMonitoringMetrics, type MonitoringMetrics } from './metrics.js';
import { LeaseReaper } from './reaper.js';
import { WorkerStreams } from './worker-streams.js';
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
  /** A worker stream that has not registered within this long is closed (default: the pong timeout). */
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
  tuning?: MonitoringTuning;
}

/** The running control loops and the parts of them that the worker API and the web API are built on. */
export interface MonitoringControl {
  /** The resolved monitoring config (defaults filled in). */
  config: MonitoringConfig;
  tuning: MonitoringTuning;
  logger: Logger;
  metrics: MonitoringMetrics;
  now: () => number;
  timers: Timers;
  store: MonitoringStore;
  streams: WorkerStreams;
  dispatcher: JobDispatcher;
  ingest: IngestQueue;
  activity: WorkerActivity;
  /** Runs a scheduler pass now (a monitor was created, changed or removed), logging a failure. */
  onMonitorsChanged(): void;
  /** Runs scheduler, dispatcher, reaper and rollups once, in order (tests, and the CLI's immediate feedback). */
  runOnce(): Promise<void>;
  /**
   * Stops the loops that hand out work (scheduler, dispatcher, reaper, stream health). The worker API is closed
   * after this and before `stop()`, so results of streams closing still reach ingest.
   */
  quiesce(): Promise<void>;
  /** `quiesce()`, then writes queued results, worker activity and a last rollup pass, and leaves leadership. */
  stop(): Promise<void>;
}

export async function startMonitoring(ctx: MonitoringContext): Promise<MonitoringControl> {
  const cfg = monitoringConfig(ctx.config);
  const now = ctx.now ?? Date.now;
  const timers = ctx.timers ?? backgroundTimers;
  const tuning = ctx.tuning ?? {};
  const logger = ctx.logger.child({ component: 'monitoring' });
  const store = ctx.store;
  const streams = new WorkerStreams();

  const metrics = createMonitoringMetrics(ctx.registry);
  const leader = ctx.leader;
  await leader.start();
  const leaseMs = cfg.lease_timeout_seconds * 1000;
  const reaperMs = cfg.reaper_interval_seconds * 1000;

  const dispatcher = new JobDispatcher({ store, streams, now, leaseMs, leadMs: cfg.dispatch_lead_ms, logger, metrics });
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
  const ingest = new IngestQueue({ store, now, maxBatch: tuning.ingestMaxBatch, windowMs: cfg.ingest_batch_window_ms, timers, logger, metrics });
  const activity = new WorkerActivity({ store, leader, now, inactiveAfterMs: cfg.worker_inactive_seconds * 1000, logger });
  const health = new StreamHealthMonitor({
    streams,
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

  // Jobs made ready by another replica's scheduler or reaper (PostgreSQL NOTIFY); the poll stays the fallback.
  const stopJobsWake = store.onJobsReady?.(() => dispatcher.poke()) ?? (() => undefined);
  scheduler.start(timers);
  dispatcher.start(tuning.dispatchIntervalMs ?? 100, timers);
  reaper.start(timers);
  health.start(timers);
  activity.start(tuning.inactivityCheckIntervalMs ?? Math.min(10_000, (cfg.worker_inactive_seconds * 1000) / 3), timers);
  rollups.start({ intervalMs: tuning.rollupIntervalMs ?? 2_000, retentionIntervalMs: tuning.retentionIntervalMs ?? 3_600_000, timers });

  let quiesced: Promise<void> | null = null;
  let stopped: Promise<void> | null = null;
  const quiesce = (): Promise<void> =>
    (quiesced ??= (async () => {
      stopJobsWake();
      await scheduler.stop();
      await dispatcher.stop();
      await reaper.stop();
      await health.stop();
    })());
  return {
    config: cfg,
    tuning,
    logger,
    metrics,
    now,
    timers,
    store,
    streams,
    dispatcher,
    ingest,
    activity,
    onMonitorsChanged() {
      void scheduler.tick().catch((err: unknown) => logger.error({ err }, 'scheduler pass failed'));
    },
    async runOnce() {
      await scheduler.tick();
      await dispatcher.pass();
      await reaper.tick();
      await rollups.tick();
    },
    quiesce,
    stop: () =>
      (stopped ??= (async () => {
        await quiesce();
        await ingest.close();
        await activity.stop();
        await rollups.tick().catch(() => 0);
        await rollups.stop();
        await leader.stop();
        logger.info('monitoring control plane stopped');
      })()),
  };
}
