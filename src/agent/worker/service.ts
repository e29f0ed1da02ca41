/**
 * Attaches the monitoring worker to the agent (src/app/agent.ts `extraServices`).
 * The worker starts in the background; when the worker API is down it keeps
 * reconnecting on its own and resource reporting is unaffected.
 */
import type { AgentServiceContext, AgentServiceFactory } from '../../app/agent.js';
import { startMonitoringWorker } from './worker.js';
import type { MonitoringWorker, MonitoringWorkerConfig } from './worker.js';

export interface MonitoringWorkerService {
  stop(): Promise<void>;
  /** null when monitoring_enabled is false */
  worker: MonitoringWorker | null;
}

/**
 * The factory to pass in runAgent's `extraServices`:
 * `runAgent(config, { …, extraServices: [monitoringWorkerService(config)] })`.
 */
export function monitoringWorkerService(config: MonitoringWorkerConfig): AgentServiceFactory {
  return (ctx: AgentServiceContext): MonitoringWorkerService => {
    if (!config.monitoring_enabled) return { stop: () => Promise.resolve(), worker: null };
    const worker = startMonitoringWorker(config, {
      logger: ctx.logger.child({ component: 'monitoring-worker' }),
      clientId: ctx.clientId,
      hostname: ctx.hostname,
    });
    return { stop: () => worker.stop(), worker };
  };
}
