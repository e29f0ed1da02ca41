import { Counter, Gauge, type Registry } from 'prom-client';
import type { Inflight } from './inflight.js';

export type UpstreamErrorKind = 'connect' | 'timeout' | 'reset' | 'other';

/** The proxy's Prometheus metrics; every method is a no-op without a registry. */
export interface ProxyMetrics {
  /** One finished client exchange, by status (or 'aborted' when the client went away first). */
  request(status: number | 'aborted'): void;
  upstreamError(kind: UpstreamErrorKind): void;
  retry(): void;
  ejection(): void;
}

const NOOP: ProxyMetrics = { request() {}, upstreamError() {}, retry() {}, ejection() {} };

function getOr<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/**
 * vantage_proxy_requests_total{status}, vantage_proxy_upstream_errors_total{kind}, vantage_proxy_retries_total,
 * vantage_proxy_ejections_total, vantage_proxy_active{kind} (http, sse, ws).
 */
export function createProxyMetrics(registry: Registry | undefined, inflight: Inflight): ProxyMetrics {
  if (!registry) return NOOP;
  const registers = [registry];
  const requests = getOr(registry, 'vantage_proxy_requests_total', () =>
    new Counter({ name: 'vantage_proxy_requests_total', help: 'Proxied requests by response status class (or aborted).', labelNames: ['status'] as const, registers }),
  );
  const errors = getOr(registry, 'vantage_proxy_upstream_errors_total', () =>
    new Counter({ name: 'vantage_proxy_upstream_errors_total', help: 'Backend errors seen by the proxy, by kind.', labelNames: ['kind'] as const, registers }),
  );
  const retries = getOr(registry, 'vantage_proxy_retries_total', () =>
    new Counter({ name: 'vantage_proxy_retries_total', help: 'Requests retried on another backend after a connect error.', registers }),
  );
  const ejections = getOr(registry, 'vantage_proxy_ejections_total', () =>
    new Counter({ name: 'vantage_proxy_ejections_total', help: 'Backends marked unhealthy by passive outlier detection.', registers }),
  );
  getOr(registry, 'vantage_proxy_active', () =>
    new Gauge({
      name: 'vantage_proxy_active',
      help: 'Proxied exchanges in flight by kind (http, sse, ws).',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        this.set({ kind: 'http' }, inflight.count('http'));
        this.set({ kind: 'sse' }, inflight.count('sse'));
        this.set({ kind: 'ws' }, inflight.count('ws'));
      },
    }),
  );
  const classes = ['1xx', '2xx', '3xx', '4xx', '5xx'].map((c) => requests.labels(c));
  const aborted = requests.labels('aborted');
  const errorChildren = new Map<string, Counter.Internal>();
  return {
    request(status) {
      if (status === 'aborted') aborted.inc();
      else (classes[Math.floor(status / 100) - 1] ?? classes[4]!).inc();
    },
    upstreamError(kind) {
      let c = errorChildren.get(kind);
      if (!c) errorChildren.set(kind, (c = errors.labels(kind)));
      c.inc();
    },
    retry: () => retries.inc(),
    ejection: () => ejections.inc(),
  };
}
