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
import { resolvePki } from '../pki/bootstrap.js';
import type { PkiAuthority } from '../pki/authority.js';
import type { PkiStore } from '../store/pki.js';
import type { WebServicesDeps } from '../api/web/registry.js';
import { entryToInput } from '../config/monitor-entry.js';
import { describeApplyError, validateApplyInputs } from '../api/web/validation.js';
import { applyMonitors } from '../monitoring/apply/execute.js';
import { newJitterSeed, newMonitorId } from '../platform/ids.js';
import type { AlertsStore } from '../store/alerts.js';
import { startAlerts, type Alerts, type AlertsConfig, type MaintenanceCalendar } from '../monitoring/alerts/index.js';

export type { MonitoringTuning } from '../monitoring/control/index.js';

export type MonitoringPlaneContext = MonitoringContext & {
  /** The PKI store (worker CA, tokens, certificates); without it the worker API keeps token-only auth (tests). */
  pkiStore?: PkiStore;
  engine?: 'sqlite' | 'postgres';
  /** Where the server keeps generated files (the worker API certificate); absent: that certificate is made at every start. */
  stateDir?: string;
  /** What the web services read besides the monitoring store (the dashboard queries, the routing engine). */
  web?: Pick<WebServicesDeps, 'dashboard' | 'overviewCache' | 'engine' | 'statusPages' | 'onMaintenanceChanged'>;
  /**
   * Alerting (src/monitoring/alerts): the engine on ingest's stored results, the outbox sender on the leader and
   * AlertsService on the web handler. Absent: no alerting.
   */
  alerting?: { store: AlertsStore; config: AlertsConfig; maintenance?: MaintenanceCalendar };
};

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
  /** The worker CA and enrollment (null when workers do not use certificates). */
  pki: PkiAuthority | null;
  /** The worker-authentication mode in force (config worker_auth after `auto`). */
  workerAuth: string;
  /** Whether the worker API serves TLS. */
  workerTls: boolean;
  /** Alerting, when started (ctx.alerting). */
  alerts: Alerts | null;
  /**
   * Re-checks the worker API certificate at `now` (a timer does so every few hours) and serves a re-issued one
   * to new connections; true when it changed. False without PKI.
   */
  refreshWorkerApiCert(now: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** How often a running server checks whether its worker API certificate is due for re-issue. */
const SERVER_CERT_CHECK_MS = 6 * 3_600_000;

/** Starts the monitoring control loops, the worker API and the web API handler. */
export async function startMonitoringPlane(ctx: MonitoringPlaneContext): Promise<MonitoringHandle> {
  const control = await startMonitoring(ctx);
  const { config: cfg, logger } = control;

  // Without a PKI store (tests that start the plane alone) the worker API keeps its token-only behaviour.
  const pki = ctx.pkiStore
    ? await resolvePki(cfg, ctx.pkiStore, ctx.engine ?? 'sqlite', { now: control.now(), logger, stateDir: ctx.stateDir ?? null }).catch(async (err: unknown) => {
        await control.stop();
        throw err;
      })
    : null;
  if (pki) (pki.mode === 'mtls' ? logger.info.bind(logger) : logger.warn.bind(logger))({ worker_auth: pki.mode }, `worker API: ${pki.summary}`);
  else if (cfg.cluster_token === '' && cfg.server_key === '') logger.warn('worker API: neither cluster_token nor server_key is set, so any client can register as a worker');
  // A worker port that cannot be opened fails the start; the loops already running are stopped first.
  const api = await startWorkerApi({
    host: cfg.worker_host || cfg.host,
    port: cfg.worker_port,
    auth: cfg,
    mode: pki?.mode,
    pki: pki?.authority && pki.server ? { authority: pki.authority, ...pki.server, revocationCheckMs: cfg.pki_revocation_check_seconds * 1000 } : undefined,
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
      recordAuth: ctx.pkiStore ? (workerId, via) => ctx.pkiStore!.recordAuth({ worker_id: workerId, via, at: control.now() }) : undefined,
    },
  }).catch(async (err: unknown) => {
    await control.stop();
    throw err;
  });
  logger.info({ workerPort: api.port, tls: api.tls }, 'monitoring control plane started');

  // A server running for months re-issues the worker API certificate in place once it is due (the same rule as
  // at start: src/pki/server-cert.ts); connections made afterwards get the new one.
  const refreshWorkerApiCert = async (now: number): Promise<boolean> => {
    const pair = pki?.refreshServerCert ? await pki.refreshServerCert(now) : null;
    if (pair) api.setServerCert(pair);
    return pair !== null;
  };
  const certTimer = pki?.refreshServerCert
    ? setInterval(() => {
        refreshWorkerApiCert(Date.now()).catch((err: unknown) => logger.warn({ err }, 'worker API certificate check failed'));
      }, SERVER_CERT_CHECK_MS)
    : null;
  certTimer?.unref();

  // server.yml `monitors:` (config as code): created or updated by name through the same apply as
  // `vantage monitor apply`, never pruned. The config loader has validated the entries already.
  if (cfg.monitors.length > 0) {
    try {
      await applyConfigMonitors(control, cfg.monitors.map(entryToInput));
    } catch (err) {
      await api.close();
      await control.stop();
      throw err;
    }
  }

  let alerts: Alerts | null = null;
  if (ctx.alerting) {
    try {
      alerts = await startAlerts({
        config: ctx.alerting.config,
        alerts: ctx.alerting.store,
        monitoring: control.store,
        now: control.now,
        leader: ctx.leader,
        onStored: (l) => control.ingest.onStored(l),
        maintenance: ctx.alerting.maintenance,
        timers: control.timers,
        logger: logger.child({ component: 'alerts' }),
      });
    } catch (err) {
      await api.close();
      await control.stop();
      throw err;
    }
  }

  const webHandler = createWebHandler({
    store: control.store,
    streams: control.streams,
    now: control.now,
    auth: cfg,
    dashboard: ctx.web?.dashboard,
    overviewCache: ctx.web?.overviewCache,
    engine: ctx.web?.engine,
    statusPages: ctx.web?.statusPages,
    onMaintenanceChanged: ctx.web?.onMaintenanceChanged,
    onMonitorsChanged: () => {
      control.onMonitorsChanged();
      void alerts?.engine.refresh().catch((err: unknown) => logger.error({ err }, 'alert catalogue refresh failed'));
    },
    ...(alerts ? { alerts: { alerts, alertsStore: ctx.alerting!.store } } : {}),
  });

  let stopped: Promise<void> | null = null;
  return {
    workerPort: api.port,
    pki: pki?.authority ?? null,
    workerAuth: api.mode,
    workerTls: api.tls,
    webHandler,
    store: control.store,
    streams: control.streams,
    runOnce: () => control.runOnce(),
    onMonitorsChanged: () => control.onMonitorsChanged(),
    onStored: (l) => control.ingest.onStored(l),
    alerts,
    refreshWorkerApiCert,
    stop: () =>
      (stopped ??= (async () => {
        await control.quiesce();
        if (certTimer) clearInterval(certTimer);
        await api.close();
        await control.stop();
        // After ingest drained: the last results' transitions are written, then the sender stops.
        await alerts?.stop();
      })()),
  };
}

/** `startMonitoringPlane` when `monitoring_enabled` (the default); null when it is off. */
export async function startMonitoringIfEnabled(ctx: MonitoringPlaneContext): Promise<MonitoringHandle | null> {
  if (ctx.config.monitoring_enabled === false) return null;
  return startMonitoringPlane(ctx);
}

async function applyConfigMonitors(control: Awaited<ReturnType<typeof startMonitoring>>, inputs: Parameters<typeof validateApplyInputs>[0]): Promise<void> {
  const v = validateApplyInputs(inputs);
  if (!v.ok) throw new Error(`server.yml: monitors: ${v.errors.map(describeApplyError).join('; ')}`);
  const r = await applyMonitors(
    { store: control.store, now: control.now, newId: newMonitorId, newJitterSeed },
    v.specs,
    { prune: false, dryRun: false, actor: 'server.yml' },
  );
  if (!r.ok) throw new Error(`server.yml: monitors: ${r.error}`);
  const o = r.outcome;
  control.logger.info(
    { created: o.created.length, updated: o.updated.length, unchanged: o.unchanged.length, kept: o.kept },
    'server.yml monitors applied (matched by name)',
  );
  if (o.created.length + o.updated.length > 0) control.onMonitorsChanged();
}
