/**
 * Attaches the monitoring worker to the agent (src/app/agent.ts `extraServices`).
 * The worker starts in the background; when the worker API is down it keeps
 * reconnecting on its own and resource reporting is unaffected.
 *
 * Credentials: an enrolled agent (worker-*.pem in state_dir) uses mTLS; one with `enrollment_token` and no
 * certificate enrolls first; otherwise the cluster token / server key is sent (weaker). An enrolled worker
 * renews its certificate with a new key once two thirds of its lifetime have passed.
 */
import type { AgentServiceContext, AgentServiceFactory } from '../../app/agent.js';
import { resolveStateDir } from '../reporter/identity.js';
import { enroll, loadCredentials, renew, renewalDueAt, type WorkerCredentials } from './credentials.js';
import { resolveWorkerUrl } from './transport.js';
import { startMonitoringWorker } from './worker.js';
import type { MonitoringWorker, MonitoringWorkerConfig } from './worker.js';

export interface MonitoringWorkerService {
  stop(): Promise<void>;
  /** null when monitoring_enabled is false */
  worker: MonitoringWorker | null;
}

export interface WorkerEnrollmentConfig {
  state_dir?: string;
  enrollment_token?: string;
  ca_fingerprint?: string;
}

/** Loads the stored credentials, or enrolls with `enrollment_token` when there are none; null = use tokens. */
export async function ensureCredentials(config: MonitoringWorkerConfig & WorkerEnrollmentConfig, ctx: Pick<AgentServiceContext, 'logger' | 'hostname'>): Promise<WorkerCredentials | null> {
  const stateDir = resolveStateDir(config.state_dir ?? '');
  const have = loadCredentials(stateDir);
  if (have) return have;
  const token = config.enrollment_token ?? '';
  if (token === '') return null;
  const r = await enroll({
    workerUrl: resolveWorkerUrl(config),
    token,
    caFingerprint: config.ca_fingerprint ?? '',
    region: config.region,
    hostname: ctx.hostname,
    stateDir,
  });
  ctx.logger.info({ worker_id: r.credentials.workerId, ca: `sha256:${r.caFingerprint}`, pinned: r.pinned, state_dir: stateDir }, 'enrolled as a worker');
  return r.credentials;
}

/**
 * The factory to pass in runAgent's `extraServices`:
 * `runAgent(config, { …, extraServices: [monitoringWorkerService(config)] })`.
 */
export function monitoringWorkerService(config: MonitoringWorkerConfig & WorkerEnrollmentConfig): AgentServiceFactory {
  return async (ctx: AgentServiceContext): Promise<MonitoringWorkerService> => {
    if (!config.monitoring_enabled) return { stop: () => Promise.resolve(), worker: null };
    const logger = ctx.logger.child({ component: 'monitoring-worker' });
    let creds = await ensureCredentials(config, { logger, hostname: ctx.hostname });
    if (creds === null && config.cluster_token === '' && config.server_key === '') {
      logger.warn('the monitoring worker has no certificate, enrollment_token or token; the worker API will refuse it unless it is on this machine or worker_auth is none');
    }
    const worker = startMonitoringWorker(config, { logger, clientId: ctx.clientId, hostname: ctx.hostname, tls: creds ?? undefined });
    const stateDir = resolveStateDir(config.state_dir ?? '');
    let timer: NodeJS.Timeout | null = null;
    const schedule = (): void => {
      if (creds === null || ctx.signal.aborted) return;
      // At most a day per wait (setTimeout's limit is ~24.8 days); a failed renewal retries in a minute.
      const wait = Math.min(86_400_000, Math.max(0, renewalDueAt(creds) - Date.now()));
      timer = setTimeout(() => {
        if (creds === null) return;
        if (Date.now() < renewalDueAt(creds)) return schedule();
        renew(resolveWorkerUrl(config), stateDir, creds)
          .then((next) => {
            creds = next;
            worker.useTls(next);
            logger.info({ worker_id: next.workerId, not_after: new Date(next.notAfter).toISOString() }, 'worker certificate renewed');
            schedule();
          })
          .catch((err: unknown) => {
            logger.warn({ err: String(err) }, 'worker certificate renewal failed; retrying in a minute');
            timer = setTimeout(schedule, 60_000);
            timer.unref();
          });
      }, wait);
      timer.unref();
    };
    schedule();
    return {
      stop: () => {
        if (timer) clearTimeout(timer);
        return worker.stop();
      },
      worker,
    };
  };
}
