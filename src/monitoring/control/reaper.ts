/** The lease reaper: every few seconds, expired leases go back to ready (or are closed after max attempts). */
import type { Logger } from 'pino';
import type { MonitoringStore, ReapOutcome } from '../../store/monitoring.js';
import type { LeaderElector } from '../../store/leader.js';
import type { MonitoringMetrics } from './metrics.js';
import { periodic, type Periodic, type Timers } from '../../platform/periodic.js';

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
  /** Called when jobs went back to ready (the dispatcher re-leases them). */
  onRequeued?: (n: number) => void;
}

export class LeaseReaper {
  private loop: Periodic | null = null;
  constructor(private readonly d: ReaperDeps) {}

  async tick(): Promise<ReapOutcome | null> {
    if (!this.d.leader.isLeader()) return null;
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
    this.loop ??= periodic(() => this.tick().then(() => undefined), this.d.intervalMs, {
      timers,
      onError: (err) => this.d.logger?.error({ err }, 'lease reaper pass failed'),
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
    this.loop = null;
  }
}
