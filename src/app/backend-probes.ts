/**
 * Wires the backend probes (src/monitoring/probes/) between the routing engine and the monitoring plane:
 * the engine's backends are what is probed, the engine's latency matrix is where results go.
 */
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server.js';
import type { RoutingEngine } from '../lb/routing/engine.js';
import { BackendProbes } from '../monitoring/probes/backend-probes.js';
import type { MonitoringHandle } from './monitoring.js';

export function startBackendProbes(d: {
  config: ServerConfig;
  engine: RoutingEngine;
  monitoring: MonitoringHandle;
  isLeader: () => boolean;
  now: () => number;
  logger: Logger;
}): BackendProbes {
  const probes = new BackendProbes({
    store: d.monitoring.store,
    backends: () => d.engine.backends().map((b) => ({ clientId: b.clientId, endpoint: b.endpoint, hostname: b.hostname, lat: b.lat, lon: b.lon })),
    sink: d.engine.latency,
    config: d.config,
    now: d.now,
    isLeader: d.isLeader,
    onMonitorsChanged: () => d.monitoring.onMonitorsChanged(),
    logger: d.logger.child({ component: 'backend-probes' }),
  });
  d.monitoring.onStored(probes.onStored);
  probes.start();
  return probes;
}
