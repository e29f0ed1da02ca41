import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config/server.js';
import type { SqliteDb } from '../store/sqlite/db.js';
import { startMonitoring } from '../monitoring/control/index.js';
import type { Principal } from '../auth/principal.js';

/** What `startMonitoring` (src/monitoring/control/index.ts) returns. */
export interface MonitoringHandle {
  workerPort: number;
  /**
   * Serves the Connect web API on the main port; false when the path is not its. `principal`: the caller as the
   * management pipeline authenticated it (the handler then checks no key itself).
   */
  webHandler(req: IncomingMessage, res: ServerResponse, principal?: Principal): boolean;
  stop(): Promise<void>;
}

export interface MonitoringContext {
  config: ServerConfig;
  logger: Logger;
  db: SqliteDb;
  registry: Registry;
  now?: () => number;
}

/** Starts the monitoring control plane (scheduler, dispatcher, worker API, web API) when `monitoring_enabled`. */
export async function startMonitoringIfEnabled(ctx: MonitoringContext): Promise<MonitoringHandle | null> {
  if (!ctx.config.monitoring_enabled) return null;
  return startMonitoring(ctx);
}
