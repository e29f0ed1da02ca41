import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../platform/log.js';
import type { HealthStatus } from '../routing/types.js';
import { backgroundTimers, type Timers } from '../../platform/timers.js';
import { httpProbe, parseTarget, tcpProbe, type ProbeResult, type ProbeTarget } from './probe.js';
import { applyProbe, ewma, initialHealth, type HealthState, type HealthThresholds } from './state.js';

/** The part of the routing engine the health checker uses. */
export interface HealthEnginePort {
  backends(): ReadonlyArray<{ clientId: string; endpoint: string; health: HealthStatus }>;
  backend(clientId: string): { health: HealthStatus } | undefined;
  setHealth(clientId: string, status: HealthStatus, latencyMs?: number | null): void;
  recordLatency(clientId: string, sampleMs: number): void;
}

export type { Timers };

export interface HealthCheckerOptions {
  engine: HealthEnginePort;
  type: 'tcp' | 'http';
  intervalMs: number;
  timeoutMs: number;
  /** HTTP probe path, appended to the endpoint. */
  path: string;
  thresholds: HealthThresholds;
  /** Most probes in flight at once. */
  concurrency: number;
  tlsInsecureSkipVerify?: boolean;
  logger?: Logger;
  registry?: Registry;
  /** Wall clock in ms (for last-check times). */
  now?: () => number;
  timers?: Timers;
}

/** What the checker knows about one backend (for /clients and debugging). */
export interface BackendHealthSnapshot {
  status: HealthStatus;
  /** EWMA (α = 0.3) of successful probe latencies, ms; null before the first success. */
  latencyMs: number | null;
  /** Wall-clock time of the last finished probe, ms; null before the first. */
  lastCheckMs: number | null;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
  lastError: string | null;
}

interface Entry {
  state: HealthState;
  latencyMs: number | null;
  lastCheckMs: number | null;
  lastError: string | null;
  target: ProbeTarget | null;
}

function metric<T>(registry: Registry | undefined, name: string, make: () => T): T | undefined {
  if (!registry) return undefined;
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/**
 * Active health checker: probes every registered backend's endpoint every `intervalMs` (tcp connect or HTTP GET),
 * runs the state machine of ./state.ts and tells the engine about status changes and latency samples (the engine
 * keeps the EWMA that feeds the score and drops sticky assignments of a backend turning unhealthy).
 *
 * Probes run through a queue bounded by `concurrency`; a backend has at most one probe queued or in flight, so a
 * hanging probe never piles up: it is cut by `timeoutMs` and that backend is simply skipped by ticks meanwhile.
 * A status set by someone else (passive outlier ejection in the proxy) is adopted on the next probe, so an ejected
 * backend needs `thresholds.healthy` consecutive successes to come back.
 */
export class HealthChecker {
  private readonly entries = new Map<string, Entry>();
  /** Backends queued or being probed → promise of that probe's completion. */
  private readonly pending = new Map<string, Promise<void>>();
  private readonly queue: Array<{ id: string; endpoint: string; done: () => void }> = [];
  private readonly controllers = new Set<AbortController>();
  private running = 0;
  private timer: unknown = null;
  private stopped = false;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly mProbes: Counter<'result'> | undefined;
  private readonly mDuration: Histogram | undefined;
  private readonly mTransitions: Counter<'to'> | undefined;

  constructor(private readonly opts: HealthCheckerOptions) {
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? backgroundTimers;
    const registers = opts.registry ? [opts.registry] : [];
    this.mProbes = metric(opts.registry, 'vantage_health_probes_total', () =>
      new Counter({ name: 'vantage_health_probes_total', help: 'Active health probes by result (ok, fail).', labelNames: ['result'] as const, registers }),
    );
    this.mDuration = metric(opts.registry, 'vantage_health_probe_seconds', () =>
      new Histogram({
        name: 'vantage_health_probe_seconds',
        help: 'Duration of active health probes (connect time for tcp, time to headers for http).',
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      }),
    );
    this.mTransitions = metric(opts.registry, 'vantage_health_transitions_total', () =>
      new Counter({ name: 'vantage_health_transitions_total', help: 'Health status changes by new status.', labelNames: ['to'] as const, registers }),
    );
  }

  /** Starts periodic rounds (the first one immediately). */
  start(): void {
    if (this.stopped || this.timer !== null) return;
    const tick = () => {
      if (this.stopped) return;
      this.enqueueAll();
      this.timer = this.timers.setTimeout(tick, this.opts.intervalMs);
    };
    tick();
  }

  /** Probes every backend now (those already queued or in flight are not probed twice); resolves when all are done. */
  checkNow(): Promise<void> {
    return Promise.all(this.enqueueAll()).then(() => undefined);
  }

  /** Probes in flight right now (never more than `concurrency`). */
  inFlight(): number {
    return this.running;
  }

  snapshot(clientId: string): BackendHealthSnapshot | undefined {
    const e = this.entries.get(clientId);
    if (!e) return undefined;
    return {
      status: e.state.status,
      latencyMs: e.latencyMs,
      lastCheckMs: e.lastCheckMs,
      consecutiveSuccesses: e.state.successes,
      consecutiveFailures: e.state.failures,
      lastError: e.lastError,
    };
  }

  /** Stops the rounds, aborts probes in flight and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    for (const c of this.controllers) c.abort();
    for (const q of this.queue.splice(0)) q.done();
    await Promise.all([...this.pending.values()]);
  }

  private enqueueAll(): Promise<void>[] {
    if (this.stopped) return [];
    const waits: Promise<void>[] = [];
    const seen = new Set<string>();
    for (const b of this.opts.engine.backends()) {
      seen.add(b.clientId);
      let p = this.pending.get(b.clientId);
      if (!p) {
        p = new Promise<void>((resolve) => this.queue.push({ id: b.clientId, endpoint: b.endpoint, done: resolve }));
        this.pending.set(b.clientId, p);
      }
      waits.push(p);
    }
    for (const id of this.entries.keys()) if (!seen.has(id) && !this.pending.has(id)) this.entries.delete(id);
    this.pump();
    return waits;
  }

  private pump(): void {
    while (!this.stopped && this.running < this.opts.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      this.probeOne(job.id, job.endpoint).finally(() => {
        this.running--;
        this.pending.delete(job.id);
        job.done();
        this.pump();
      });
    }
  }

  private entry(id: string, endpoint: string): Entry {
    let e = this.entries.get(id);
    if (!e) {
      e = { state: initialHealth(), latencyMs: null, lastCheckMs: null, lastError: null, target: parseTarget(endpoint) };
      this.entries.set(id, e);
    } else if (e.target?.endpoint !== endpoint) {
      e.target = parseTarget(endpoint);
    }
    return e;
  }

  private async probeOne(id: string, endpoint: string): Promise<void> {
    const e = this.entry(id, endpoint);
    let result: ProbeResult;
    if (!e.target) {
      result = { ok: false, latencyMs: 0, error: 'invalid endpoint URL' };
    } else {
      const ac = new AbortController();
      this.controllers.add(ac);
      const t = this.timers.setTimeout(() => ac.abort(), this.opts.timeoutMs);
      try {
        result =
          this.opts.type === 'http'
            ? await httpProbe(e.target, this.opts.path, ac.signal, { tlsInsecureSkipVerify: this.opts.tlsInsecureSkipVerify })
            : await tcpProbe(e.target, ac.signal);
      } finally {
        this.timers.clearTimeout(t);
        this.controllers.delete(ac);
      }
    }
    if (this.stopped) return;
    this.record(id, e, result);
  }

  private record(id: string, e: Entry, r: ProbeResult): void {
    const engine = this.opts.engine;
    const current = engine.backend(id);
    if (!current) {
      this.entries.delete(id);
      return;
    }
    // Adopt a status set elsewhere (passive outlier ejection, a re-registration): start counting from it.
    if (current.health !== e.state.status) e.state = initialHealth(current.health);
    const prev = e.state.status;
    e.state = applyProbe(e.state, r.ok, this.opts.thresholds);
    e.lastCheckMs = this.now();
    e.lastError = r.ok ? null : (r.error ?? 'failed');
    this.mProbes?.inc({ result: r.ok ? 'ok' : 'fail' });
    this.mDuration?.observe(r.latencyMs / 1000);
    if (r.ok) {
      e.latencyMs = ewma(e.latencyMs, r.latencyMs);
      engine.recordLatency(id, r.latencyMs);
    }
    if (e.state.status !== prev) {
      engine.setHealth(id, e.state.status);
      this.mTransitions?.inc({ to: e.state.status });
      const log = { clientId: id, from: prev, to: e.state.status, error: e.lastError ?? undefined };
      if (e.state.status === 'unhealthy') this.opts.logger?.warn(log, 'backend unhealthy');
      else this.opts.logger?.info(log, 'backend health changed');
    }
  }
}
