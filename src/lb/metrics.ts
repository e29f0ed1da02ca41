import { Counter, Gauge, collectDefaultMetrics, type Registry } from 'prom-client';
import type { RttView } from './routing/latency-matrix.js';
import { FastCounter, FastHistogram, type CounterCell } from '../platform/fast-metrics.js';
import type { EngineCounts } from './routing/types.js';

export type RouteOutcome = 'ok' | 'sticky' | 'no_capacity' | 'unknown_tier';

export interface ServerMetrics {
  /** Counts one /route decision. */
  route(tier: string, outcome: RouteOutcome, seconds: number): void;
  /** Counts one finished HTTP request. */
  request(route: string, status: number | 'aborted'): void;
  statsReport(): void;
  /** Counts sticky assignments adopted from another replica (its choice won in the database). */
  stickyAdopted(n: number): void;
}

/** How often the default metrics sample the event-loop lag (ms). */
export const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The server's Prometheus metrics, registered on the given (per-server) registry:
 * vantage_routes_total{tier,outcome}, vantage_route_decision_seconds, vantage_backends{state},
 * vantage_reservations, vantage_http_requests_total{route,status}, vantage_stats_reports_total,
 * vantage_store_pending_writes, vantage_backend_rtt_ms{region,client_id}, vantage_backend_rtt_age_seconds, plus Node's default process metrics.
 */
export function createServerMetrics(
  registry: Registry,
  sources: { counts: () => EngineCounts; pendingWrites: () => number; latency?: () => readonly RttView[] },
): ServerMetrics {
  // The event-loop lag is sampled every 100 ms instead of prom-client's 10 ms: the sampling timer woke the
  // event loop 100 times a second, about 1 % of a CPU on an idle server, for no better a lag figure.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const routes = new FastCounter('vantage_routes_total', 'Routing decisions by tier and outcome (ok, sticky, no_capacity, unknown_tier).', ['tier', 'outcome'], registry);
  const decision = new FastHistogram(
    'vantage_route_decision_seconds',
    'Time the routing engine took to decide (and reserve), excluding HTTP.',
    [1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 5e-4, 1e-3, 1e-2],
    registry,
  );
  new Gauge({
    name: 'vantage_backends',
    help: 'Registered backends by state: total, active (not stale), stale, unhealthy.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const c = sources.counts();
      this.set({ state: 'total' }, c.total);
      this.set({ state: 'active' }, c.active);
      this.set({ state: 'stale' }, c.stale);
      this.set({ state: 'unhealthy' }, c.unhealthy);
    },
  });
  new Gauge({
    name: 'vantage_reservations',
    help: 'Live (unexpired) reservations.',
    registers: [registry],
    collect() {
      this.set(sources.counts().reservations);
    },
  });
  const rtt = new Gauge({
    name: 'vantage_backend_rtt_ms',
    help: 'Latency matrix: EWMA of the probe round trip from each region to each backend (fresh entries only).',
    labelNames: ['region', 'client_id'] as const,
    registers: [registry],
    collect() {
      rtt.reset();
      rttAge.reset();
      for (const e of sources.latency?.() ?? []) {
        rtt.set({ region: e.region, client_id: e.backendId }, e.rttMs);
        rttAge.set({ region: e.region, client_id: e.backendId }, e.ageMs / 1000);
      }
    },
  });
  const rttAge = new Gauge({
    name: 'vantage_backend_rtt_age_seconds',
    help: 'Latency matrix: seconds since the last probe sample of each (region, backend) entry.',
    labelNames: ['region', 'client_id'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'vantage_store_pending_writes',
    help: 'Stats rows, liveness updates and sticky changes queued for the database.',
    registers: [registry],
    collect() {
      this.set(sources.pendingWrites());
    },
  });
  const requests = new FastCounter('vantage_http_requests_total', 'Management API requests by route and status code.', ['route', 'status'], registry);
  const statsReports = new Counter({
    name: 'vantage_stats_reports_total',
    help: 'Stats reports accepted.',
    registers: [registry],
  });

  const stickyAdopted = new Counter({
    name: 'vantage_sticky_adopted_total',
    help: "Sticky assignments this replica adopted because another replica's choice won in the database.",
    registers: [registry],
  });

  // Label children are cached (two-level maps, no key string built per call): label hashing per call would
  // cost more than the routing decision itself.
  const routeChildren = new ChildCache<string, RouteOutcome>((tier, outcome) => routes.labels({ tier, outcome }));
  const requestChildren = new ChildCache<string, number | 'aborted'>((route, status) => requests.labels({ route, status: String(status) }));
  return {
    route(tier, outcome, seconds) {
      routeChildren.get(tier, outcome).inc();
      decision.observe(seconds);
    },
    request(route, status) {
      requestChildren.get(route, status).inc();
    },
    statsReport() {
      statsReports.inc();
    },
    stickyAdopted(n) {
      stickyAdopted.inc(n);
    },
  };
}

/** Counter children by two label values; at most `max` are kept (label values from callers cannot grow memory). */
class ChildCache<A, B> {
  private readonly byA = new Map<A, Map<B, CounterCell>>();
  private size = 0;

  constructor(
    private readonly make: (a: A, b: B) => CounterCell,
    private readonly max = 1000,
  ) {}

  get(a: A, b: B): CounterCell {
    let inner = this.byA.get(a);
    const hit = inner?.get(b);
    if (hit !== undefined) return hit;
    const child = this.make(a, b);
    if (this.size < this.max) {
      if (inner === undefined) this.byA.set(a, (inner = new Map()));
      inner.set(b, child);
      this.size += 1;
    }
    return child;
  }
}
