/** The lease reaper: every few seconds, expired leases go back to ready (or are closed after max attempts). */
import type { Logger } from 'pino';
import type { MonitoringStore, ReapOutcome } from '../../store/monitoring.js';
import type { LeaderElector } from '../../store/leader.js';
import type { MonitoringMetrics } from './metrics.js';
import { PeriodicTask } from '../../platform/periodic.js';
import type { Timers } from '../../platform/timers.js';

export interface ReaperDeps {
  store: MonitoringStore;
  leader: LeaderElector;
  now: () => number;
  intervalMs: number;
  maxAttempts: number;
  /** A ready job whose scheduled_at is older than this is closed as missed (no worker could take it). */
  missedAfterMs: number;
  logger?: Logger;
  metrics?: MonitoringMetrics;
  /** Called when jobs went back to ready (the job dispatcher re-leases them). */
  onRequeued?: (n: number) => void;
}

export class LeaseReaper {
  private readonly loop: PeriodicTask<ReapOutcome>;
  constructor(private readonly d: ReaperDeps) {
    this.loop = new PeriodicTask(() => this.pass(), {
      gate: d.leader,
      onError: (err) => d.logger?.error({ err }, 'lease reaper pass failed'),
    });
  }

  /** One pass; null when this node is not the leader. */
  tick(): Promise<ReapOutcome | null> {
    return this.loop.run();
  }

  private async pass(): Promise<ReapOutcome> {
    const now = this.d.now();
    const r = await this.d.store.reapExpired({ now, maxAttempts: this.d.maxAttempts, missedBefore: now - this.d.missedAfterMs });
    if (r.requeued) this.d.metrics?.leasesReaped.inc({ action: 'requeued' }, r.requeued);
    if (r.expired) this.d.metrics?.leasesReaped.inc({ action: 'expired' }, r.expired);
    if (r.missed) this.d.metrics?.leasesReaped.inc({ action: 'missed' }, r.missed);
    if (r.requeued + r.expired + r.missed > 0) this.d.logger?.info(r, 'lease reaper');
    if (r.requeued > 0) this.d.onRequeued?.(r.requeued);
    return r;
  }

  start(timers?: Timers): void {
    this.loop.start(this.d.intervalMs, timers);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
