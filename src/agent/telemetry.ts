import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerState } from './reporter/breaker.js';

export type ReportKind = 'register' | 'stats';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The agent's own health metrics, in a registry of their own (the server may run in the same
 * process with its own registry, so nothing goes into prom-client's global one).
 */
export class AgentTelemetry {
  readonly registry = new Registry();
  readonly reportsSent = new Counter({
    name: 'vantage_agent_reports_sent_total',
    help: 'Reports the server accepted, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly reportsFailed = new Counter({
    name: 'vantage_agent_reports_failed_total',
    help: 'Report attempts that failed, by kind and reason (timeout, network, http_5xx, http_4xx, circuit_open, not_ready).',
    labelNames: ['kind', 'reason'] as const,
    registers: [this.registry],
  });
  readonly breakerState = new Gauge({
    name: 'vantage_agent_breaker_state',
    help: 'Circuit breaker state towards the server: 0 closed, 1 half-open, 2 open.',
    registers: [this.registry],
  });
  readonly breakerTransitions = new Counter({
    name: 'vantage_agent_breaker_transitions_total',
    help: 'Circuit breaker state changes, by new state.',
    labelNames: ['to'] as const,
    registers: [this.registry],
  });
  readonly sampleDuration = new Histogram({
    name: 'vantage_agent_sample_duration_seconds',
    help: 'Time to read one resource once.',
    labelNames: ['resource'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly gpusEnabled = new Gauge({
    name: 'vantage_agent_gpus_enabled',
    help: '1 while GPU sampling works, 0 while nvidia-smi is missing or failing.',
    registers: [this.registry],
  });
  readonly lastReportSeconds = new Gauge({
    name: 'vantage_agent_last_report_timestamp_seconds',
    help: 'Unix time of the last accepted /stats report.',
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    this.breakerState.set(0);
    if (opts.processMetrics === true) collectDefaultMetrics({ register: this.registry, prefix: 'vantage_agent_' });
  }

  setBreaker(state: BreakerState): void {
    this.breakerState.set(BREAKER_VALUE[state]);
    this.breakerTransitions.inc({ to: state });
  }
}
