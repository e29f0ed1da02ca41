/**
 * PostgreSQL implementation of MonitoringStore: monitors (audited), the scheduler's writes, workers; leasing
 * lives in ./leasing.ts and results (partitions, ingest, rollups, retention) in ./results.ts.
 */
import { newMonitorRecord, patchedMonitor } from '../monitor-records.js';
import type pg from 'pg';
import { nullResult } from '../../monitoring/domain/result.js';
import type { RunPlan, SchedulableMonitor } from '../../monitoring/domain/schedule-math.js';
import { RESOLUTIONS } from '../../monitoring/domain/rollup-math.js';
import type {
  AuditEvent,
  IngestOutcome,
  JobRecord,
  JobStatus,
  LeasedJob,
  LeaseOptions,
  MonitorRecord,
  MonitorSpec,
  MonitoringStore,
  ReapOutcome,
  Resolution,
  ResultInput,
  ResultRecord,
  RetentionCutoffs,
  RollupCount,
  RollupRecord,
  ScheduleOutcome,
  UptimeTotal,
  WorkerRecord,
} from '../monitoring.js';
import { migrate, tx, type Queryable } from './db.js';
import { PgLeasing } from './leasing.js';
import { PG_MONITORING_MIGRATIONS } from './migrations/monitoring.js';
import { dayOf, PgResults } from './results.js';
import { JOBS_CHANNEL, notify, type PgNotifier } from './notify.js';

/** Day partitions kept ready ahead of today (the leader's maintenance, on every rollup pass). */
export const PARTITION_DAYS_AHEAD = 2;

type MonitorRow = Omit<MonitorRecord, 'headers' | 'assertions' | 'assertions_compiled' | 'options' | 'regions'> &
  Record<'headers' | 'assertions' | 'assertions_compiled' | 'options' | 'regions', string>;

const MONITOR_COLUMNS = [
  'id', 'name', 'owner', 'type', 'url', 'method', 'headers', 'body', 'interval_ms', 'timeout_ms', 'assertions', 'assertions_compiled',
  'options', 'regions', 'enabled', 'jitter_seed', 'last_scheduled_at', 'next_due_at', 'created_at', 'updated_at', 'deleted_at',
] as const;
const MONITOR_COLS = MONITOR_COLUMNS.join(', ');
const JSON_FIELDS = new Set(['headers', 'assertions', 'assertions_compiled', 'options', 'regions']);

function monitorFromRow(r: MonitorRow): MonitorRecord {
  return {
    ...r,
    headers: JSON.parse(r.headers) as Record<string, string>,
    assertions: JSON.parse(r.assertions) as string[],
    assertions_compiled: JSON.parse(r.assertions_compiled) as unknown[],
    options: JSON.parse(r.options) as Record<string, unknown>,
    regions: JSON.parse(r.regions) as string[],
  };
}

function monitorParams(m: MonitorRecord): unknown[] {
  return MONITOR_COLUMNS.map((c) => (JSON_FIELDS.has(c) ? JSON.stringify(m[c]) : m[c]));
}

interface WorkerRow extends Omit<WorkerRecord, 'capabilities'> {
  capabilities: string;
}
const workerFromRow = (r: WorkerRow): WorkerRecord => ({ ...r, capabilities: JSON.parse(r.capabilities) as string[] });

/**
 * The writes of one scheduler batch: $1–$4 the jobs (run id, monitor, region, scheduled_at; a slot that already
 * exists is skipped), $5 now, $6–$8 each monitor's next_due_at and last_scheduled_at, $9/$10 the notification.
 * Returns how many jobs it created.
 */
const SCHEDULE_WRITE_SQL = `
WITH ins AS (
  INSERT INTO jobs (run_id, monitor_id, region, status, scheduled_at, attempts, created_at)
  SELECT r, m, g, 'ready', a, 0, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[]) WITH ORDINALITY AS u(r, m, g, a, o)
   ORDER BY o
  ON CONFLICT DO NOTHING
  RETURNING 1
),
adv AS (
  UPDATE monitors m SET next_due_at = u.next, last_scheduled_at = COALESCE(u.last, m.last_scheduled_at)
    FROM unnest($6::text[], $7::int8[], $8::int8[]) AS u(id, next, last) WHERE m.id = u.id
)
SELECT n, CASE WHEN n > 0 THEN pg_notify($9, $10) END AS notified FROM (SELECT COUNT(*)::int AS n FROM ins) c`;

export class PgMonitoringStore implements MonitoringStore {
  readonly leasing: PgLeasing;
  readonly results: PgResults;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => number,
    private readonly notifier: PgNotifier | null,
  ) {
    this.leasing = new PgLeasing(pool);
    this.results = new PgResults(pool);
  }

  /** Runs the "monitoring" migrations (once across replicas) and creates today's and the next days' partitions. */
  static async open(pool: pg.Pool, opts: { now?: () => number; notifier?: PgNotifier } = {}): Promise<PgMonitoringStore> {
    await migrate(pool, 'monitoring', PG_MONITORING_MIGRATIONS);
    const now = opts.now ?? Date.now;
    const store = new PgMonitoringStore(pool, now, opts.notifier ?? null);
    await store.results.ensurePartitionsAhead(now(), PARTITION_DAYS_AHEAD);
    return store;
  }

  // ---- monitors -------------------------------------------------------------------------------------------

  private async audit(c: Queryable, at: number, actor: string, action: string, id: string, before: MonitorRecord | null, after: MonitorRecord | null): Promise<void> {
    await c.query('INSERT INTO audit_log (at, actor, action, entity_type, entity_id, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      at, actor, action, 'monitor', id, before ? JSON.stringify(before) : null, after ? JSON.stringify(after) : null,
    ]);
  }

  private async replace(c: Queryable, m: MonitorRecord): Promise<void> {
    const sets = MONITOR_COLUMNS.slice(1).map((col, i) => `${col} = $${i + 2}`);
    await c.query(`UPDATE monitors SET ${sets.join(', ')} WHERE id = $1`, monitorParams(m));
  }

  private async lockMonitor(c: Queryable, id: string): Promise<MonitorRecord | null> {
    const r = await c.query<MonitorRow>(`SELECT ${MONITOR_COLS} FROM monitors WHERE id = $1 FOR UPDATE`, [id]);
    return r.rows[0] ? monitorFromRow(r.rows[0]) : null;
  }

  async createMonitor(spec: MonitorSpec, meta: { id: string; actor: string; now: number; jitterSeed: number }): Promise<MonitorRecord> {
    const rec = newMonitorRecord(spec, meta);
    await tx(this.pool, async (c) => {
      await c.query(`INSERT INTO monitors (${MONITOR_COLS}) VALUES (${MONITOR_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`, monitorParams(rec));
      await this.audit(c, meta.now, meta.actor, 'monitor.create', rec.id, null, rec);
    });
    return rec;
  }

  async getMonitor(id: string): Promise<MonitorRecord | null> {
    const r = await this.pool.query<MonitorRow>(`SELECT ${MONITOR_COLS} FROM monitors WHERE id = $1`, [id]);
    return r.rows[0] ? monitorFromRow(r.rows[0]) : null;
  }

  async updateMonitor(id: string, patch: Partial<MonitorSpec>, meta: { actor: string; now: number }): Promise<MonitorRecord | null> {
    return tx(this.pool, async (c) => {
      const before = await this.lockMonitor(c, id);
      if (!before || before.deleted_at !== null) return null;
      const after = patchedMonitor(before, patch, meta.now);
      await this.replace(c, after);
      const cancel = `UPDATE jobs SET status = 'done', outcome = 'cancelled', finished_at = $1, deleted_at = $1 WHERE monitor_id = $2 AND status = 'ready'`;
      if (!after.enabled) await c.query(cancel, [meta.now, id]);
      else if (patch.regions) await c.query(`${cancel} AND NOT (region = ANY($3::text[]))`, [meta.now, id, after.regions]);
      await this.audit(c, meta.now, meta.actor, 'monitor.update', id, before, after);
      return after;
    });
  }

  async deleteMonitor(id: string, meta: { actor: string; now: number }): Promise<MonitorRecord | null> {
    return tx(this.pool, async (c) => {
      const before = await this.lockMonitor(c, id);
      if (!before || before.deleted_at !== null) return null;
      const after: MonitorRecord = { ...before, deleted_at: meta.now, updated_at: meta.now };
      await this.replace(c, after);
      await c.query(`UPDATE jobs SET status = 'done', outcome = 'cancelled', finished_at = $1, deleted_at = $1 WHERE monitor_id = $2 AND status = 'ready'`, [
        meta.now,
        id,
      ]);
      await this.audit(c, meta.now, meta.actor, 'monitor.delete', id, before, after);
      return after;
    });
  }

  async listMonitors(opts: { includeDeleted: boolean; limit: number; after?: string }): Promise<MonitorRecord[]> {
    const r = await this.pool.query<MonitorRow>(
      `SELECT ${MONITOR_COLS} FROM monitors WHERE id COLLATE "C" > $1 ${opts.includeDeleted ? '' : 'AND deleted_at IS NULL'}
        ORDER BY id COLLATE "C" LIMIT $2`,
      [opts.after ?? '', opts.limit],
    );
    return r.rows.map(monitorFromRow);
  }

  async listAudit(opts: { entityId?: string; limit: number }): Promise<AuditEvent[]> {
    const r = opts.entityId
      ? await this.pool.query<AuditEvent>('SELECT * FROM audit_log WHERE entity_id = $1 ORDER BY id DESC LIMIT $2', [opts.entityId, opts.limit])
      : await this.pool.query<AuditEvent>('SELECT * FROM audit_log ORDER BY id DESC LIMIT $1', [opts.limit]);
    return r.rows;
  }

  // ---- scheduler ------------------------------------------------------------------------------------------

  /**
   * Batches of 1 000 due monitors, each batch one transaction. The due rows are locked `FOR UPDATE SKIP LOCKED`
   * (a second scheduler, e.g. a leader that has just lost its lock, skips them instead of planning them twice)
   * and the jobs_slot unique index drops a slot that already exists.
   */
  async scheduleDue(now: number, lookaheadMs: number, plan: (m: SchedulableMonitor) => RunPlan, newRunId: () => string): Promise<ScheduleOutcome> {
    const out: ScheduleOutcome = { monitors: 0, jobs: 0, catchUps: 0 };
    const batch = 1000;
    for (;;) {
      const n = await tx(this.pool, async (c) => {
        const due = await c.query<{ id: string; interval_ms: number; jitter_seed: number; next_due_at: number | null; regions: string }>(
          `SELECT id, interval_ms, jitter_seed, next_due_at, regions FROM monitors
            WHERE enabled AND deleted_at IS NULL AND next_due_at <= $1
            ORDER BY next_due_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [now + lookaheadMs, batch],
        );
        const jobs: { run: string[]; monitor: string[]; region: string[]; at: number[] } = { run: [], monitor: [], region: [], at: [] };
        const adv: { id: string[]; next: number[]; last: Array<number | null> } = { id: [], next: [], last: [] };
        for (const m of due.rows) {
          const p = plan(m);
          for (const at of p.runs) {
            for (const region of JSON.parse(m.regions) as string[]) {
              jobs.run.push(newRunId());
              jobs.monitor.push(m.id);
              jobs.region.push(region);
              jobs.at.push(at);
            }
          }
          // A plan must move the cadence forward, or this loop would never end.
          adv.id.push(m.id);
          adv.next.push(Math.max(p.nextDueAt, now + lookaheadMs + 1));
          adv.last.push(p.runs.length > 0 ? Math.max(...p.runs) : null);
          out.monitors++;
          if (p.catchUp) out.catchUps++;
        }
        if (adv.id.length > 0) {
          // One statement for the batch's writes: its jobs, the monitors' new next_due_at, and (when a job was
          // created) the notification that wakes the dispatchers of every replica once they are committed.
          const w = await c.query<{ n: number }>(SCHEDULE_WRITE_SQL, [
            jobs.run, jobs.monitor, jobs.region, jobs.at, now, adv.id, adv.next, adv.last, JOBS_CHANNEL,
            JSON.stringify({ origin: this.notifier?.origin ?? '' }),
          ]);
          out.jobs += w.rows[0]!.n;
        }
        return due.rows.length;
      });
      if (n < batch) return out;
    }
  }

  // ---- dispatcher -----------------------------------------------------------------------------------------

  leaseJobs(opts: LeaseOptions): Promise<LeasedJob[]> {
    return this.leasing.lease(opts);
  }

  renewLeases(opts: { workerId: string; runIds: string[]; now: number; leaseMs: number }): Promise<{ renewed: string[]; lost: string[] }> {
    return this.leasing.renewLeases(opts);
  }

  async reapExpired(opts: { now: number; maxAttempts: number; missedBefore: number }): Promise<ReapOutcome> {
    await this.results.ensurePartitions([dayOf(opts.now)]);
    return tx(this.pool, async (c) => {
      const r = await this.leasing.reap(c, opts);
      await this.results.insert(
        c,
        r.expired.map((j) => ({
          ...nullResult(j.run_id, opts.now),
          monitor_id: j.monitor_id,
          region: j.region,
          worker_id: j.worker_id,
          status: 'expired' as const,
          error: `lease expired ${j.attempts} time(s); job closed`,
          error_class: 'lease_expired',
          ingested_at: opts.now,
        })),
      );
      if (r.requeued > 0) await notify(c, JOBS_CHANNEL, { origin: this.notifier?.origin ?? '' });
      return { requeued: r.requeued, expired: r.expired.length, missed: r.missed };
    });
  }

  onJobsReady(fn: () => void): () => void {
    if (!this.notifier) return () => undefined;
    const off = [this.notifier.on(JOBS_CHANNEL, () => fn()), this.notifier.onReconnect(fn)];
    return () => off.forEach((f) => f());
  }

  async getJob(runId: string): Promise<JobRecord | null> {
    const r = await this.pool.query<JobRecord>('SELECT * FROM jobs WHERE run_id = $1', [runId]);
    return r.rows[0] ?? null;
  }

  async countJobs(): Promise<Record<JobStatus, number>> {
    const r = await this.pool.query<{ status: JobStatus; n: number }>('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status');
    const out: Record<JobStatus, number> = { ready: 0, leased: 0, done: 0 };
    for (const row of r.rows) out[row.status] = row.n;
    return out;
  }

  // ---- ingest, results, rollups, retention ----------------------------------------------------------------

  ingestResults(items: Array<{ workerId: string; result: ResultInput }>, now: number): Promise<IngestOutcome[]> {
    return this.results.ingest(items, now);
  }

  listResults(opts: { monitorId: string; from?: number; to?: number; region?: string; limit: number }): Promise<ResultRecord[]> {
    return this.results.list(opts);
  }

  async rollupPending(maxRows: number): Promise<number> {
    // The leader's rollup pass also keeps the next days' partitions ready (a no-op once they exist).
    await this.results.ensurePartitionsAhead(this.now(), PARTITION_DAYS_AHEAD);
    return this.results.rollupPending(maxRows);
  }

  queryRollups(opts: { monitorId: string; resolution: Resolution; from: number; to: number; region?: string }): Promise<RollupRecord[]> {
    return this.results.queryRollups(opts);
  }

  queryRollupCounts(opts: { monitorIds: readonly string[]; resolution: Resolution; from: number; to: number }): Promise<RollupCount[]> {
    return this.results.queryRollupCounts(opts);
  }

  queryUptimeTotals(opts: { monitorIds: readonly string[]; resolution: Resolution; from: number; to: number }): Promise<UptimeTotal[]> {
    return this.results.queryUptimeTotals(opts);
  }

  async deleteExpired(c: RetentionCutoffs): Promise<{ results: number; rollups: number; jobs: number }> {
    const results = await this.results.dropPartitionsBefore(c.resultsBefore);
    const cut = [c.rollup1mBefore, c.rollup1hBefore, c.rollup1dBefore];
    let rollups = 0;
    for (const [i, res] of RESOLUTIONS.entries()) {
      rollups += (await this.pool.query(`DELETE FROM results_agg_${res} WHERE bucket_start < $1`, [cut[i]])).rowCount ?? 0;
    }
    const jobs = (await this.pool.query(`DELETE FROM jobs WHERE status = 'done' AND finished_at < $1`, [c.jobsBefore])).rowCount ?? 0;
    return { results, rollups, jobs };
  }

  // ---- workers --------------------------------------------------------------------------------------------

  async getWorker(id: string): Promise<WorkerRecord | null> {
    const r = await this.pool.query<WorkerRow>('SELECT * FROM workers WHERE id = $1', [id]);
    return r.rows[0] ? workerFromRow(r.rows[0]) : null;
  }

  async upsertWorker(w: Pick<WorkerRecord, 'id' | 'hostname' | 'region' | 'version' | 'capabilities'>, now: number): Promise<WorkerRecord> {
    const r = await this.pool.query<WorkerRow>(
      `INSERT INTO workers (id, hostname, region, version, capabilities, status, enrolled_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, 'active', $6, $6)
       ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, region = excluded.region, version = excluded.version,
         capabilities = excluded.capabilities, last_seen_at = excluded.last_seen_at,
         status = CASE WHEN workers.revoked_at IS NULL THEN 'active' ELSE 'revoked' END
       RETURNING *`,
      [w.id, w.hostname, w.region, w.version, JSON.stringify(w.capabilities), now],
    );
    return workerFromRow(r.rows[0]!);
  }

  async touchWorkers(ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(
      `UPDATE workers SET last_seen_at = $1, status = CASE WHEN status = 'inactive' THEN 'active' ELSE status END WHERE id = ANY($2::text[])`,
      [now, ids],
    );
  }

  async markInactiveWorkers(seenBefore: number): Promise<string[]> {
    const r = await this.pool.query<{ id: string }>(
      `UPDATE workers SET status = 'inactive' WHERE status = 'active' AND last_seen_at < $1 RETURNING id`,
      [seenBefore],
    );
    return r.rows.map((x) => x.id).sort();
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    const r = await this.pool.query<WorkerRow>('SELECT * FROM workers ORDER BY id COLLATE "C"');
    return r.rows.map(workerFromRow);
  }

  async revokeWorker(id: string, reason: string, now: number): Promise<boolean> {
    const r = await this.pool.query(`UPDATE workers SET status = 'revoked', revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL`, [
      now,
      reason,
      id,
    ]);
    return r.rowCount === 1;
  }
}
