import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of the monitoring control plane (`vantage_monitoring_*`). */
export interface MonitoringMetrics {
  jobsScheduled: Counter;
  jobsLeased: Counter;
  leasesReaped: Counter<'action'>;
  results: Counter<'outcome'>;
  ingestBatch: Histogram;
  streams: Gauge;
  streamsClosed: Counter<'reason'>;
  schedulerTick: Histogram;
  rollupRows: Counter;
}

export function createMonitoringMetrics(registry: Registry): MonitoringMetrics {
  const registers = [registry];
  return {
    jobsScheduled: new Counter({ name: 'vantage_monitoring_jobs_scheduled_total', help: 'Jobs created by the scheduler.', registers }),
    jobsLeased: new Counter({ name: 'vantage_monitoring_jobs_leased_total', help: 'Jobs leased to workers.', registers }),
    leasesReaped: new Counter({
      name: 'vantage_monitoring_leases_reaped_total',
      help: 'Expired leases handled by the reaper (requeued, expired = closed after max attempts, missed = never leased).',
      labelNames: ['action'],
      registers,
    }),
    results: new Counter({
      name: 'vantage_monitoring_results_total',
      help: 'Results received from workers by outcome (stored, duplicate, lease_lost, invalid, error).',
      labelNames: ['outcome'],
      registers,
    }),
    ingestBatch: new Histogram({
      name: 'vantage_monitoring_ingest_batch_size',
      help: 'Results written per ingest transaction.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
      registers,
    }),
    streams: new Gauge({ name: 'vantage_monitoring_worker_streams', help: 'Open worker streams.', registers }),
    streamsClosed: new Counter({
      name: 'vantage_monitoring_worker_streams_closed_total',
      help: 'Worker streams closed, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    schedulerTick: new Histogram({
      name: 'vantage_monitoring_scheduler_tick_seconds',
      help: 'Duration of one scheduler pass.',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers,
    }),
    rollupRows: new Counter({ name: 'vantage_monitoring_rollup_rows_total', help: 'Raw results folded into rollups.', registers }),
  };
}
