import type { HealthStatus } from '../routing/types.js';

/** Consecutive-result thresholds of the health state machine. */
export interface HealthThresholds {
  /** Consecutive successes that make an unknown or unhealthy backend healthy. */
  healthy: number;
  /** Consecutive failures that make an unknown or healthy backend unhealthy. */
  unhealthy: number;
}

/** One backend's health as the checker sees it. */
export interface HealthState {
  status: HealthStatus;
  /** Consecutive successful probes (reset by a failure). */
  successes: number;
  /** Consecutive failed probes (reset by a success). */
  failures: number;
}

export const initialHealth = (status: HealthStatus = 'unknown'): HealthState => ({ status, successes: 0, failures: 0 });

/**
 * Applies one probe result. Pure: returns the next state.
 * unknown → healthy after `healthy` successes, unknown/healthy → unhealthy after `unhealthy` failures,
 * unhealthy → healthy after `healthy` successes (recoverable). A success resets the failure streak and vice versa.
 */
export function applyProbe(s: HealthState, ok: boolean, t: HealthThresholds): HealthState {
  if (ok) {
    const successes = s.successes + 1;
    const status: HealthStatus = s.status !== 'healthy' && successes >= t.healthy ? 'healthy' : s.status;
    return { status, successes, failures: 0 };
  }
  const failures = s.failures + 1;
  const status: HealthStatus = s.status !== 'unhealthy' && failures >= t.unhealthy ? 'unhealthy' : s.status;
  return { status, successes: 0, failures };
}

/** Exponentially weighted moving average; the first sample is taken as-is. */
export function ewma(prev: number | null, sample: number, alpha = 0.3): number {
  return prev === null ? sample : alpha * sample + (1 - alpha) * prev;
}
