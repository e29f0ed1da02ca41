/** The scheduler loop: every `intervalMs`, turn due monitors into jobs (maths in schedule-math.ts). */
import type { Logger } from 'pino';
import type { MonitoringStore, ScheduleOutcome } from '../../store/monitoring.js';
import type { LeaderElector } from '../../store/leader.js';
import type { MonitoringMetrics } from './metrics.js';
import { planRuns } from '../domain/schedule-math.js';
import { newRunId } from '../../platform/ids.js';
import { periodic, type Periodic, type Timers } from '../../platform/periodic.js';

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
  private loop: Periodic | null = null;
  constructor(private readonly d: SchedulerDeps) {}

  /** One pass; null when this node is not the leader. */
  async tick(): Promise<ScheduleOutcome | null> {
    if (!this.d.leader.isLeader()) return null;
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
    this.loop ??= periodic(() => this.tick().then(() => undefined), this.d.intervalMs, {
      timers,
      runAtStart: true,
      onError: (err) => this.d.logger?.error({ err }, 'scheduler pass failed'),
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }
}
