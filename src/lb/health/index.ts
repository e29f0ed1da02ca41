import type { Registry } from 'prom-client';
import type { ServerConfig } from '../../config/server.js';
import type { Logger } from '../../platform/log.js';
import { HealthChecker, type BackendHealthSnapshot, type HealthEnginePort, type Timers } from './checker.js';

export { HealthChecker } from './checker.js';
export type { BackendHealthSnapshot, HealthCheckerOptions, HealthEnginePort, Timers } from './checker.js';
export { applyProbe, ewma, initialHealth } from './state.js';
export type { HealthState, HealthThresholds } from './state.js';

export interface HealthCheckerHandle {
  /** Stops probing and waits for probes in flight. */
  stop(): Promise<void>;
  /** Runs one round now and resolves when every backend has been probed once. */
  checkNow(): Promise<void>;
  /** The checker's view of one backend (null/undefined when health checks are off or it was never probed). */
  snapshot(clientId: string): BackendHealthSnapshot | undefined;
}

type HealthConfig = Pick<
  ServerConfig,
  | 'health_check_enabled'
  | 'health_check_type'
  | 'health_check_interval_seconds'
  | 'health_check_timeout_seconds'
  | 'health_check_path'
  | 'health_check_unhealthy_threshold'
  | 'health_check_healthy_threshold'
  | 'health_check_concurrency'
  | 'tls_insecure_skip_verify'
>;

/**
 * Starts the active health checker from server.yml's `health_check_*` keys. With `health_check_enabled: false`
 * nothing is probed (the engine then ignores health status and uses a latency term of 0).
 */
export function startHealthChecker(ctx: {
  config: HealthConfig;
  engine: HealthEnginePort;
  logger?: Logger;
  registry?: Registry;
  now?: () => number;
  timers?: Timers;
}): HealthCheckerHandle {
  const c = ctx.config;
  if (!c.health_check_enabled) {
    return { stop: async () => {}, checkNow: async () => {}, snapshot: () => undefined };
  }
  const checker = new HealthChecker({
    engine: ctx.engine,
    type: c.health_check_type,
    intervalMs: c.health_check_interval_seconds * 1000,
    timeoutMs: c.health_check_timeout_seconds * 1000,
    path: c.health_check_path,
    thresholds: { healthy: c.health_check_healthy_threshold, unhealthy: c.health_check_unhealthy_threshold },
    concurrency: c.health_check_concurrency,
    tlsInsecureSkipVerify: c.tls_insecure_skip_verify,
    logger: ctx.logger,
    registry: ctx.registry,
    now: ctx.now,
    timers: ctx.timers,
  });
  checker.start();
  return { stop: () => checker.stop(), checkNow: () => checker.checkNow(), snapshot: (id) => checker.snapshot(id) };
}
