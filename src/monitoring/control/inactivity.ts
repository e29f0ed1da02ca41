/**
 * Worker inactivity monitor: records when workers were last seen (batched writes) and marks workers unseen for
 * `inactiveAfterMs` inactive, which the API shows. Their leases are left to the reaper.
 */
import type { Logger } from 'pino';
import type { MonitoringStore } from '../../store/monitoring.js';
import type { LeaderElector } from '../../store/leader.js';
import { periodic, type Periodic, type Timers } from '../../platform/periodic.js';

export class WorkerActivity {
  private seenIds = new Set<string>();
  private loop: Periodic | null = null;

  constructor(
    private readonly d: { store: MonitoringStore; leader: LeaderElector; now: () => number; inactiveAfterMs: number; logger?: Logger },
  ) {}

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
    this.loop ??= periodic(() => this.tick().then(() => undefined), intervalMs, {
      timers,
      onError: (err) => this.d.logger?.error({ err }, 'worker inactivity pass failed'),
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
    await this.tick().catch(() => undefined);
  }
}
