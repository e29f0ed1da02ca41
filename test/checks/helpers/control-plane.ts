/**
 * An in-process monitoring control plane (store in a temp SQLite file, the real worker stream server on a
 * loopback port, fast loops) for tests that drive workers against it.
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import type { MonitoringConfig } from '../../../src/config/monitoring.js';
import { startMonitoringPlane, type MonitoringHandle } from '../../../src/app/monitoring.js';
import { tempStore, type TempStore } from '../../monitoring/helpers.js';

export interface ControlPlane {
  mon: MonitoringHandle;
  t: TempStore;
  /** the worker API, http://127.0.0.1:port */
  workerUrl: string;
  token: string;
  stop(): Promise<void>;
}

export async function startControlPlane(config: Partial<MonitoringConfig> = {}): Promise<ControlPlane> {
  const t = tempStore();
  const token = 'tok';
  const mon = await startMonitoringPlane({
    config: { host: '127.0.0.1', worker_port: 0, cluster_token: token, scheduler_interval_ms: 50, ...config },
    logger: pino({ level: 'silent' }),
    store: t.store,
    leader: t.leader,
    registry: new Registry(),
    tuning: { dispatchIntervalMs: 20, streamCheckIntervalMs: 50 },
  });
  return {
    mon,
    t,
    workerUrl: `http://127.0.0.1:${mon.workerPort}`,
    token,
    async stop() {
      await mon.stop();
      t.close();
    },
  };
}
