/**
 * JobDispatcher: pull-based leasing. Workers grant credits (JobRequest{count}); the dispatcher leases up to that
 * many due jobs (scheduled_at ≤ now + leadMs; own region first, then global) and pushes them down the stream.
 * A pass runs when a worker asks, when the scheduler or reaper produced jobs, and every `intervalMs`, so a job
 * reaches a waiting worker about `leadMs` before it is due — the worker then starts it at scheduled_at.
 */
import type { Logger } from 'pino';
import type { MonitoringStore } from '../../store/monitoring.js';
import type { MonitoringMetrics } from './metrics.js';
import type { WorkerLink, WorkerStreams } from './worker-streams.js';
import { PeriodicTask } from '../../platform/periodic.js';
import type { Timers } from '../../platform/timers.js';

export interface JobDispatcherDeps {
  store: MonitoringStore;
  streams: WorkerStreams;
  now: () => number;
  leaseMs: number;
  leadMs: number;
  /** Most jobs leased for one worker in one transaction. */
  maxPerLease?: number;
  logger?: Logger;
  metrics?: MonitoringMetrics;
}

export class JobDispatcher {
  private running: Promise<void> | null = null;
  private again = false;
  private pokeScheduled = false;
  private rr = 0;
  private readonly loop = new PeriodicTask(() => this.pass());

  constructor(private readonly d: JobDispatcherDeps) {}

  /** Requests a pass soon (coalesced). */
  poke(): void {
    if (this.pokeScheduled) return;
    this.pokeScheduled = true;
    setImmediate(() => {
      this.pokeScheduled = false;
      void this.pass();
    });
  }

  /** Leases for every stream with credits; passes never overlap (a request during a pass runs another one after). */
  pass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.passOnce();
      } while (this.again);
    })()
      .catch((err: unknown) => this.d.logger?.error({ err }, 'dispatcher pass failed'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async passOnce(): Promise<void> {
    const links = this.d.streams.all().filter((l) => l.credits > 0);
    if (links.length === 0) return;
    this.rr = (this.rr + 1) % links.length;
    const ordered = [...links.slice(this.rr), ...links.slice(0, this.rr)];
    for (const link of ordered) await this.leaseFor(link);
  }

  private async leaseFor(link: WorkerLink): Promise<number> {
    const n = Math.min(link.credits, this.d.maxPerLease ?? 500);
    if (n <= 0) return 0;
    link.credits -= n;
    let jobs;
    try {
      jobs = await this.d.store.leaseJobs({
        workerId: link.workerId,
        region: link.region,
        count: n,
        now: this.d.now(),
        leadMs: this.d.leadMs,
        leaseMs: this.d.leaseMs,
        // A worker that declares no capabilities (an older agent) may run any type.
        types: link.capabilities?.length ? link.capabilities : undefined,
      });
    } finally {
      link.credits += n;
    }
    link.credits -= jobs.length;
    if (jobs.length === 0) return 0;
    this.d.metrics?.jobsLeased.inc(jobs.length);
    if (!link.deliverJobs(jobs)) {
      this.d.logger?.warn({ workerId: link.workerId, jobs: jobs.length }, 'dispatcher: stream closed while leasing; the reaper will requeue');
    }
    return jobs.length;
  }

  start(intervalMs: number, timers?: Timers): void {
    this.loop.start(intervalMs, timers);
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    if (this.running) await this.running;
  }
}
