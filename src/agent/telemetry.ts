import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState } from './reporter/breaker.js';

export type ReportKind = 'register' | 'stats';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

interface PromMetrics {
  reportsSent: Counter<'kind'>;
  reportsFailed: Counter<'kind' | 'reason'>;
  breakerState: Gauge;
  breakerTransitions: Counter<'to'>;
  sampleDuration: Histogram<'resource'>;
  gpusEnabled: Gauge;
  lastReportSeconds: Gauge;
}

/**
 * The agent's own health figures. Plain counters are always kept (cheap, used by tests and
 * logs); the Prometheus registry exists only when `metrics_port` is set, so an agent without
 * /metrics never loads prom-client. The registry is the agent's own, never prom-client's
 * global one (the server may share the process).
 */
export class AgentTelemetry {
  /** The registry served on /metrics; null when Prometheus metrics are off. Attached services may add metrics to it. */
  readonly registry: Registry | null;
  readonly sent = new Map<ReportKind, number>();
  /** Failed attempts by `kind/reason`. */
  readonly failed = new Map<string, number>();
  breaker: BreakerState = 'closed';
  private readonly prom: PromMetrics | null;

  private constructor(registry: Registry | null, prom: PromMetrics | null) {
    this.registry = registry;
    this.prom = prom;
  }

  /** Without Prometheus: plain counters only. */
  static plain(): AgentTelemetry {
    return new AgentTelemetry(null, null);
  }

  /** With a Prometheus registry (loads prom-client); `processMetrics` adds process CPU/RSS/event-loop metrics. */
  static async prometheus(opts: { processMetrics?: boolean } = {}): Promise<AgentTelemetry> {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = await import('prom-client');
    const registry = new Registry();
    const registers = [registry];
    const prom: PromMetrics = {
      reportsSent: new Counter({ name: 'vantage_agent_reports_sent_total', help: 'Reports the server accepted, by kind.', labelNames: ['kind'], registers }),
      reportsFailed: new Counter({
        name: 'vantage_agent_reports_failed_total',
        help: 'Report attempts that failed, by kind and reason (timeout, network, http_5xx, http_4xx, http_404, circuit_open, not_ready).',
        labelNames: ['kind', 'reason'],
        registers,
      }),
      breakerState: new Gauge({ name: 'vantage_agent_breaker_state', help: 'Circuit breaker towards the server: 0 closed, 1 half-open, 2 open.', registers }),
      breakerTransitions: new Counter({ name: 'vantage_agent_breaker_transitions_total', help: 'Circuit breaker state changes, by new state.', labelNames: ['to'], registers }),
      sampleDuration: new Histogram({
        name: 'vantage_agent_sample_duration_seconds',
        help: 'Time to read one resource once.',
        labelNames: ['resource'],
        buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
        registers,
      }),
      gpusEnabled: new Gauge({ name: 'vantage_agent_gpus_enabled', help: '1 while GPU sampling works, 0 while nvidia-smi is missing or failing.', registers }),
      lastReportSeconds: new Gauge({ name: 'vantage_agent_last_report_timestamp_seconds', help: 'Unix time of the last accepted /stats report.', registers }),
    };
    prom.breakerState.set(0);
    if (opts.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'vantage_agent_', eventLoopMonitoringPrecision: 100 }); // as the server's (EVENT_LOOP_SAMPLE_MS)
    return new AgentTelemetry(registry, prom);
  }

  reportSent(kind: ReportKind): void {
    this.sent.set(kind, (this.sent.get(kind) ?? 0) + 1);
    this.prom?.reportsSent.inc({ kind });
  }

  reportFailed(kind: ReportKind, reason: string): void {
    const k = `${kind}/${reason}`;
    this.failed.set(k, (this.failed.get(k) ?? 0) + 1);
    this.prom?.reportsFailed.inc({ kind, reason });
  }

  setBreaker(state: BreakerState): void {
    this.breaker = state;
    this.prom?.breakerState.set(BREAKER_VALUE[state]);
    this.prom?.breakerTransitions.inc({ to: state });
  }

  sampleDuration(resource: string, seconds: number): void {
    this.prom?.sampleDuration.observe({ resource }, seconds);
  }

  gpusEnabled(enabled: boolean): void {
    this.prom?.gpusEnabled.set(enabled ? 1 : 0);
  }

  lastReport(unixSeconds: number): void {
    this.prom?.lastReportSeconds.set(unixSeconds);
  }
}
