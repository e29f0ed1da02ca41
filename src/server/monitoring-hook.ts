import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config/server.js';
import type { SqliteDb } from '../store/sqlite/db.js';
import type { KeyCheck } from './pipeline/api-key.js';

/** What `startMonitoring` (src/server/monitoring/index.ts) returns. */
export interface MonitoringHandle {
  workerPort: number;
  /** Serves the Connect web API on the main port; false when the path is not its. */
  webHandler(req: IncomingMessage, res: ServerResponse): boolean;
  stop(): Promise<void>;
}

export interface MonitoringContext {
  config: ServerConfig;
  logger: Logger;
  db: SqliteDb;
  registry: Registry;
  now?: () => number;
  checkApiKey: (req: IncomingMessage) => boolean | KeyCheck;
}

type StartMonitoring = (ctx: MonitoringContext) => Promise<MonitoringHandle>;

/**
 * Starts the monitoring control plane when `monitoring_enabled` and the module is present. The module is
 * loaded dynamically so the server keeps working while the monitoring component is still being built.
 * TODO(lead): switch to a static `import { startMonitoring } from './monitoring/index.js'` once it lands.
 */
export async function startMonitoringIfEnabled(ctx: MonitoringContext): Promise<MonitoringHandle | null> {
  if (!ctx.config.monitoring_enabled) return null;
  let mod: { startMonitoring?: StartMonitoring };
  try {
    mod = (await import(new URL('./monitoring/index.js', import.meta.url).href)) as { startMonitoring?: StartMonitoring };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      ctx.logger.debug('monitoring module not available; monitoring control plane not started');
      return null;
    }
    throw err;
  }
  if (typeof mod.startMonitoring !== 'function') return null;
  return mod.startMonitoring(ctx);
}
