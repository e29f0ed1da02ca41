/**
 * Wires the backend probes (src/monitoring/probes/) between the routing engine and the monitoring plane:
 * the engine's backends are what is probed, the engine's latency matrix is where results go (on PostgreSQL
 * the matrix of every replica: a result reaches only the replica of the worker's stream, which announces it).
 */
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/server.js';
import type { RoutingEngine } from '../lb/routing/engine.js';
import { BackendProbes } from '../monitoring/probes/backend-probes.js';
import type { MonitoringHandle } from './monitoring.js';
import type { LbRttSample } from '../store/lb.js';
import type { RttSink } from '../monitoring/probes/backend-probes.js';

/**
 * The engine's latency matrix as the probes' sink, also handing every recorded round trip to `announce` (the
 * other replicas: each ingests only the results of its own workers' streams), one call per event-loop turn.
 */
export function sharedRttSink(latency: RttSink, announce: ((samples: readonly LbRttSample[]) => Promise<void>) | undefined, logger?: Logger): RttSink {
  if (announce === undefined) return latency;
  let queued: LbRttSample[] = [];
  return {
    setRegionLocations: (locations) => latency.setRegionLocations(locations),
    recordRtt(region, clientId, rttMs) {
      const ok = latency.recordRtt(region, clientId, rttMs);
      if (!ok) return ok;
      if (queued.length === 0) {
        setImmediate(() => {
          const samples = queued;
          queued = [];
          announce(samples).catch((err: unknown) => logger?.warn({ err, samples: samples.length }, 'announcing probe round trips to the other replicas failed'));
        });
      }
      queued.push({ region, clientId, rttMs });
      return ok;
    },
  };
}

export function startBackendProbes(d: {
  config: ServerConfig;
  engine: RoutingEngine;
  monitoring: MonitoringHandle;
  isLeader: () => boolean;
  now: () => number;
  logger: Logger;
  /** PostgreSQL: shares each recorded round trip with the other replicas (LbStore.announceRtt). */
  announceRtt?: (samples: readonly LbRttSample[]) => Promise<void>;
}): BackendProbes {
  const probes = new BackendProbes({
    store: d.monitoring.store,
    backends: () => d.engine.backends().map((b) => ({ clientId: b.clientId, endpoint: b.endpoint, hostname: b.hostname, lat: b.lat, lon: b.lon })),
    sink: sharedRttSink(d.engine.latency, d.announceRtt, d.logger),
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
