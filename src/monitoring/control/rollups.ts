/** Rollup maintenance (fold new results into 1m/1h/1d buckets), retention, and range queries over buckets. */
import type { Logger } from 'pino';
import { RESOLUTION_MS, type MonitoringStore, type Resolution } from '../../store/monitoring.js';
import { DAY_MS } from '../../config/monitoring.js';
import type { LeaderElector } from '../../store/leader.js';
import type { MonitoringMetrics } from './metrics.js';
import { mergeSeries, type RollupSummary } from '../domain/rollup-math.js';
import { PeriodicTask } from '../../platform/periodic.js';
import type { Timers } from '../../platform/timers.js';

export interface RetentionDays {
  results: number;
  rollup1m: number;
  rollup1h: number;
  rollup1d: number;
  /** Finished jobs are kept this long (default 1 day). */
  jobs?: number;
}

export class RollupWorker {
  private readonly loop: PeriodicTask<number>;
  private readonly retention: PeriodicTask<{ results: number; rollups: number; jobs: number }>;

  constructor(
    private readonly d: {
      store: MonitoringStore;
      leader: LeaderElector;
      now: () => number;
      retentionDays: RetentionDays;
      batchRows?: number;
      /** Stop a pass after this long and continue at the next one, so rollups never block ingest for long. */
      passBudgetMs?: number;
      logger?: Logger;
      metrics?: MonitoringMetrics;
    },
  ) {
    const onError = (what: string) => (err: unknown) => d.logger?.error({ err }, `${what} failed`);
    this.loop = new PeriodicTask(() => this.rollupPass(), { gate: d.leader, onError: onError('rollup pass') });
    this.retention = new PeriodicTask(() => this.retentionPass(), { gate: d.leader, onError: onError('retention pass') });
  }

  /** Folds pending results until none are left (or the pass budget is spent); returns how many (0 when not the leader). */
  async tick(): Promise<number> {
    return (await this.loop.run()) ?? 0;
  }

  /** Deletes rows past their retention; null when this node is not the leader. */
  retentionTick(): Promise<{ results: number; rollups: number; jobs: number } | null> {
    return this.retention.run();
  }

  private async rollupPass(): Promise<number> {
    const batch = this.d.batchRows ?? 5_000;
    const deadline = performance.now() + (this.d.passBudgetMs ?? 250);
    let total = 0;
    for (;;) {
      const n = await this.d.store.rollupPending(batch);
      total += n;
      if (n < batch || performance.now() > deadline) break;
      await new Promise<void>((r) => setImmediate(r));
    }
    if (total > 0) this.d.metrics?.rollupRows.inc(total);
    return total;
  }

  private async retentionPass(): Promise<{ results: number; rollups: number; jobs: number }> {
    const now = this.d.now();
    const r = this.d.retentionDays;
    const out = await this.d.store.deleteExpired({
      resultsBefore: now - r.results * DAY_MS,
      rollup1mBefore: now - r.rollup1m * DAY_MS,
      rollup1hBefore: now - r.rollup1h * DAY_MS,
      rollup1dBefore: now - r.rollup1d * DAY_MS,
      jobsBefore: now - (r.jobs ?? 1) * DAY_MS,
    });
    if (out.results + out.rollups + out.jobs > 0) this.d.logger?.info(out, 'monitoring retention: deleted old rows');
    return out;
  }

  start(opts: { intervalMs: number; retentionIntervalMs: number; timers?: Timers }): void {
    this.loop.start(opts.intervalMs, opts.timers);
    this.retention.start(opts.retentionIntervalMs, opts.timers);
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.retention.stop();
  }
}

/** The coarsest-enough resolution for a range: 1m up to 6 h, 1h up to 14 days, else 1d. */
export function pickResolution(fromMs: number, toMs: number): Resolution {
  const span = toMs - fromMs;
  if (span <= 6 * 3_600_000) return '1m';
  if (span <= 14 * DAY_MS) return '1h';
  return '1d';
}

export interface MetricsQuery {
  monitorId: string;
  from: number;
  to: number;
  resolution?: Resolution;
  region?: string;
}

/** Buckets overlapping [from, to) merged per bucket (regions merged unless one is given), and their total. */
export async function queryMetrics(store: MonitoringStore, q: MetricsQuery): Promise<{ resolution: Resolution; points: RollupSummary[]; total: RollupSummary }> {
  const resolution = q.resolution ?? pickResolution(q.from, q.to);
  const size = RESOLUTION_MS[resolution];
  const from = Math.floor(q.from / size) * size;
  const rows = await store.queryRollups({ monitorId: q.monitorId, resolution, from, to: q.to, region: q.region });
  const { points, total } = mergeSeries(rows, q.monitorId, q.region ?? '');
  total.bucket_start = from;
  return { resolution, points, total };
}

/** Uptime and latency over the last 24 h and 7 d (1h buckets) and 30 d (1d buckets). */
export async function uptimeWindows(
  store: MonitoringStore,
  monitorId: string,
  now: number,
  region?: string,
): Promise<{ last_24h: RollupSummary; last_7d: RollupSummary; last_30d: RollupSummary }> {
  const to = now + 1;
  const [d1, d7, d30] = await Promise.all([
    queryMetrics(store, { monitorId, from: now - DAY_MS, to, resolution: '1h', region }),
    queryMetrics(store, { monitorId, from: now - 7 * DAY_MS, to, resolution: '1h', region }),
    queryMetrics(store, { monitorId, from: now - 30 * DAY_MS, to, resolution: '1d', region }),
  ]);
  return { last_24h: d1.total, last_7d: d7.total, last_30d: d30.total };
}
