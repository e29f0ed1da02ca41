/** The scheduler loop: every `intervalMs`, turn due monitors into jobs (maths in schedule-math.ts). */
import type { Logger } from 'pino';
import type { MonitoringStore, ScheduleOutcome } from '../../store/monitoring.js';
import type { LeaderElector } from '../../store/leader.js';
import type { MonitoringMetrics } from './metrics.js';
import { planRuns } from '../domain/schedule-math.js';
import { newRunId } from '../../platform/ids.js';
import { PeriodicTask } from '../../platform/periodic.js';
import type { Timers } from '../../platform/timers.js';

export interface SchedulerDeps {
  store: MonitoringStore;
  leader: LeaderElector;
  now: () => number;
  intervalMs: number;
  lookaheadMs: number;
  logger?: Logger;
  metrics?: MonitoringMetrics;
  /** Called after a pass that created jobs (the dispatcher uses it to lease promptly). */
  onJobs?: (outcome: ScheduleOutcome) => void;
}

export class Scheduler {
  private readonly loop: PeriodicTask<ScheduleOutcome>;
  constructor(private readonly d: SchedulerDeps) {
    this.loop = new PeriodicTask(() => this.pass(), {
      gate: d.leader,
      runAtStart: true,
      onError: (err) => d.logger?.error({ err }, 'scheduler pass failed'),
    });
  }

  /** One pass; null when this node is not the leader. */
  tick(): Promise<ScheduleOutcome | null> {
    return this.loop.run();
  }

  private async pass(): Promise<ScheduleOutcome> {
    const now = this.d.now();
    const started = performance.now();
    const out = await this.d.store.scheduleDue(now, this.d.lookaheadMs, (m) => planRuns(m, now, this.d.lookaheadMs), newRunId);
    this.d.metrics?.schedulerTick.observe((performance.now() - started) / 1000);
    if (out.jobs > 0) {
      this.d.metrics?.jobsScheduled.inc(out.jobs);
      this.d.onJobs?.(out);
    }
    if (out.catchUps > 0) this.d.logger?.info({ catchUps: out.catchUps }, 'scheduler: catch-up runs after downtime');
    return out;
  }

  start(timers?: Timers): void {
    this.loop.start(this.d.intervalMs, timers);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
