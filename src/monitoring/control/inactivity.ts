/**
 * Worker inactivity monitor: records when workers were last seen (batched writes) and marks workers unseen for
 * `inactiveAfterMs` inactive, which the API shows. Their leases are left to the reaper.
 */
import type { Logger } from 'pino';
import type { MonitoringStore } from '../../store/monitoring.js';
import type { LeaderElector } from '../../store/leader.js';
import { PeriodicTask } from '../../platform/periodic.js';
import type { Timers } from '../../platform/timers.js';

export class WorkerActivity {
  private seenIds = new Set<string>();
  private readonly loop: PeriodicTask<string[]>;

  constructor(
    private readonly d: { store: MonitoringStore; leader: LeaderElector; now: () => number; inactiveAfterMs: number; logger?: Logger },
  ) {
    // Not gated as a whole: every node writes its own workers' last-seen times; only the leader marks inactivity.
    this.loop = new PeriodicTask(() => this.tick(), { onError: (err) => d.logger?.error({ err }, 'worker inactivity pass failed') });
  }

  /** Notes that a worker sent something (written at the next tick). */
  seen(workerId: string): void {
    this.seenIds.add(workerId);
  }

  async tick(): Promise<string[]> {
    const now = this.d.now();
    if (this.seenIds.size > 0) {
      const ids = [...this.seenIds];
      this.seenIds = new Set();
      await this.d.store.touchWorkers(ids, now);
    }
    if (!this.d.leader.isLeader()) return [];
    const inactive = await this.d.store.markInactiveWorkers(now - this.d.inactiveAfterMs);
    if (inactive.length > 0) this.d.logger?.warn({ workers: inactive }, 'workers marked inactive');
    return inactive;
  }

  start(intervalMs: number, timers?: Timers): void {
    this.loop.start(intervalMs, timers);
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.tick().catch(() => undefined);
  }
}
