/**
 * The leased jobs this worker holds: each starts at its scheduled_at (server clock) translated to the local
 * clock with the offset estimate plus its error bound, so never early; at most max_concurrent_checks run at
 * once and the others wait in start order. A job whose lease is lost is stopped (running) or forgotten.
 */
import type { Logger } from 'pino';
import type { Job } from '../../gen/vantage/v1/worker_pb.js';
import type { CheckResult } from '../../monitoring/domain/result.js';
import type { runCheck as RunCheck } from '../../monitoring/checks/run-check.js';
import type { Timers } from '../../platform/sleep.js';
import type { ClockOffset } from './clock.js';
import { invalidJobResult, JobCache } from './job.js';
import type { PreparedJob } from './job.js';
import type { LagWindow } from './lags.js';

interface Held {
  job: Job;
  prepared: PreparedJob;
  scheduledAt: number;
  state: 'waiting' | 'ready' | 'running';
  timer: unknown;
  abort: AbortController | null;
  lost: boolean;
}

export interface HeldJobsCounters {
  checksStarted: number;
  checksCompleted: number;
  resultsDropped: number;
  leasesLost: number;
}

export interface HeldJobsDeps {
  log: Logger;
  now: () => number;
  timers: Timers;
  clock: ClockOffset;
  maxRunning: number;
  runCheck: typeof RunCheck;
  lags: LagWindow;
  counters: HeldJobsCounters;
  /** a check finished and its lease is still held: the result is to be delivered */
  onResult(job: Job, result: CheckResult): void;
  /** a slot or a hold was freed: there may be room to ask for more jobs */
  onFreed(): void;
}

export class HeldJobs {
  private readonly cache = new JobCache();
  private readonly jobs = new Map<string, Held>();
  private readonly ready: Held[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private runningCount = 0;

  constructor(private readonly d: HeldJobsDeps) {}

  get size(): number {
    return this.jobs.size;
  }

  get running(): number {
    return this.runningCount;
  }

  /** Held jobs not running yet. */
  get waiting(): number {
    let n = 0;
    for (const h of this.jobs.values()) if (h.state !== 'running') n++;
    return n;
  }

  has(runId: string): boolean {
    return this.jobs.has(runId);
  }

  runIds(): string[] {
    return [...this.jobs.keys()];
  }

  add(job: Job): void {
    const held: Held = {
      job,
      prepared: this.cache.prepare(job),
      scheduledAt: Number(job.scheduledAtMs),
      state: 'waiting',
      timer: null,
      abort: null,
      lost: false,
    };
    this.jobs.set(job.runId, held);
    this.arm(held);
  }

  /** The server says these leases are gone: stop those checks; no result is sent for them. */
  lost(runIds: readonly string[]): void {
    for (const id of runIds) {
      const held = this.jobs.get(id);
      if (held === undefined) continue;
      held.lost = true;
      this.d.counters.leasesLost++;
      this.d.log.warn({ run_id: id }, 'lease lost; stopping the check');
      if (held.state === 'running') {
        held.abort?.abort();
      } else {
        this.d.timers.clearTimeout(held.timer);
        if (held.state === 'ready') this.ready.splice(this.ready.indexOf(held), 1);
        this.jobs.delete(id);
      }
    }
  }

  /** Stop deadline: every held check is abandoned (no result; its lease expires); resolves when none runs. */
  async abandonAll(): Promise<void> {
    for (const held of this.jobs.values()) {
      held.lost = true;
      this.d.timers.clearTimeout(held.timer);
      held.abort?.abort();
      if (held.state !== 'running') this.jobs.delete(held.job.runId);
    }
    this.ready.length = 0;
    await Promise.allSettled([...this.inflight]);
  }

  /** Start the job once the server clock has certainly reached scheduled_at; re-check after each timer. */
  private arm(held: Held): void {
    held.timer = null;
    if (held.lost || held.state !== 'waiting') return;
    const delay = this.d.clock.notBefore(held.scheduledAt) - this.d.now();
    if (delay > 0) {
      held.timer = this.d.timers.setTimeout(() => this.arm(held), Math.max(1, Math.ceil(delay)));
      return;
    }
    if (this.runningCount >= this.d.maxRunning) {
      held.state = 'ready';
      this.ready.push(held);
      return;
    }
    this.start(held);
  }

  private start(held: Held): void {
    held.state = 'running';
    held.abort = new AbortController();
    this.runningCount++;
    this.d.counters.checksStarted++;
    this.d.lags.record(this.d.clock.toServer(this.d.now()) - held.scheduledAt);
    const p = held.prepared.ok
      ? this.d.runCheck(held.prepared.spec, held.prepared.assertions, { now: this.d.now, signal: held.abort.signal })
      : Promise.resolve(invalidJobResult(held.prepared.error, this.d.now()));
    const done = p
      .then(
        (result) => this.finished(held, result),
        (err: unknown) => {
          this.d.log.error({ err, run_id: held.job.runId }, 'check runner failed');
          this.finished(held, invalidJobResult(`check runner failed: ${String(err)}`, this.d.now()));
        },
      )
      .finally(() => this.inflight.delete(done));
    this.inflight.add(done);
  }

  private finished(held: Held, result: CheckResult): void {
    this.runningCount--;
    this.jobs.delete(held.job.runId);
    this.d.counters.checksCompleted++;
    if (held.lost) this.d.counters.resultsDropped++;
    else this.d.onResult(held.job, result);
    const next = this.ready.shift();
    if (next !== undefined) this.start(next);
    this.d.onFreed();
  }
}
