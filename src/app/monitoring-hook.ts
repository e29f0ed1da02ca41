import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config/server.js';
import type { MonitoringStore } from '../store/monitoring.js';
import type { LeaderElector } from '../store/leader.js';
import { startMonitoring } from '../monitoring/control/index.js';
import type { KeyCheck } from '../auth/api-key.js';

/** What `startMonitoring` (src/monitoring/control/index.ts) returns. */
export interface MonitoringHandle {
  workerPort: number;
  /** Serves the Connect web API on the main port; false when the path is not its. */
  webHandler(req: IncomingMessage, res: ServerResponse): boolean;
  stop(): Promise<void>;
}

export interface MonitoringContext {
  config: ServerConfig;
  logger: Logger;
  store: MonitoringStore;
  leader: LeaderElector;
  registry: Registry;
  now?: () => number;
  checkApiKey: (req: IncomingMessage) => boolean | KeyCheck;
}

/** Starts the monitoring control plane (scheduler, dispatcher, worker API, web API) when `monitoring_enabled`. */
export async function startMonitoringIfEnabled(ctx: MonitoringContext): Promise<MonitoringHandle | null> {
  if (!ctx.config.monitoring_enabled) return null;
  return startMonitoring(ctx);
}
