/** SQLite implementation of MonitoringStore (better-sqlite3: synchronous, wrapped in the async interface). */
import type { Statement } from 'better-sqlite3';
import { newMonitorRecord, patchedMonitor } from '../monitor-records.js';
import { migrate, type SqliteDb } from './db.js';
import { MONITORING_MIGRATIONS } from './migrations/monitoring.js';
import { SqliteLeasing } from './leasing.js';
import { RESOLUTIONS } from '../../monitoring/domain/rollup-math.js';
import { foldBucket, groupIntoBuckets, type StoredBucket } from '../../monitoring/domain/rollup-buckets.js';
import { nullResult } from '../../monitoring/domain/result.js';
import type { RunPlan, SchedulableMonitor } from '../../monitoring/domain/schedule-math.js';
import {
  type RollupCount,
  type UptimeTotal,
  type AuditEvent,
  type IngestOutcome,
  type JobRecord,
  type JobStatus,
  type LeasedJob,
  type LeaseOptions,
  type MonitorRecord,
  type MonitorSpec,
  type MonitoringStore,
  type ReapOutcome,
  type Resolution,
  type ResultInput,
  type ResultRecord,
  type RetentionCutoffs,
  type RollupRecord,
  type ScheduleOutcome,
  type WorkerRecord,
} from '../monitoring.js';

/** A monitors row: the record with its JSON columns as text and `enabled` as 0/1. */
type MonitorRow = Omit<MonitorRecord, 'headers' | 'assertions' | 'assertions_compiled' | 'options' | 'regions' | 'enabled'> &
  Record<'headers' | 'assertions' | 'assertions_compiled' | 'options' | 'regions', string> & { enabled: number };

interface WorkerRow extends Omit<WorkerRecord, 'capabilities'> {
  capabilities: string;
}

/** The columns of a ResultRecord (results_raw also has `seq`, the rollup cursor, which stays inside the store). */
const RESULT_COLUMNS = [
  'run_id', 'event_at', 'monitor_id', 'region', 'worker_id', 'status', 'http_code', 'dns_ms', 'connect_ms', 'tls_ms', 'ttfb_ms',
  'download_ms', 'total_ms', 'size_bytes', 'error', 'error_class', 'assertions', 'details', 'started_at', 'finished_at', 'ingested_at',
] as const;

function monitorFromRow(r: MonitorRow): MonitorRecord {
  return {
    id: r.id,
    name: r.name,
    owner: r.owner,
    type: r.type,
    url: r.url,
    method: r.method,
    headers: JSON.parse(r.headers) as Record<string, string>,
    body: r.body,
    interval_ms: r.interval_ms,
    timeout_ms: r.timeout_ms,
    assertions: JSON.parse(r.assertions) as string[],
    assertions_compiled: JSON.parse(r.assertions_compiled) as unknown[],
    options: JSON.parse(r.options) as Record<string, unknown>,
    regions: JSON.parse(r.regions) as string[],
    enabled: r.enabled === 1,
    jitter_seed: r.jitter_seed,
    last_scheduled_at: r.last_scheduled_at,
    next_due_at: r.next_due_at,
    created_at: r.created_at,
    updated_at: r.updated_at,
    deleted_at: r.deleted_at,
  };
}

function monitorToParams(m: MonitorRecord): Record<string, unknown> {
  return {
    ...m,
    headers: JSON.stringify(m.headers),
    assertions: JSON.stringify(m.assertions),
    assertions_compiled: JSON.stringify(m.assertions_compiled),
    options: JSON.stringify(m.options),
    regions: JSON.stringify(m.regions),
    enabled: m.enabled ? 1 : 0,
  };
}

function workerFromRow(r: WorkerRow): WorkerRecord {
  return { ...r, capabilities: JSON.parse(r.capabilities) as string[] };
}

export class SqliteMonitoringStore implements MonitoringStore {
  readonly leasing: SqliteLeasing;
  private readonly s: {
    getMonitor: Statement<[string], MonitorRow>;
    insertMonitor: Statement<[Record<string, unknown>]>;
    replaceMonitor: Statement<[Record<string, unknown>]>;
    cancelReadyJobs: Statement<[number, number, string]>;
    cancelReadyJobsOutside: Statement<[number, number, string, string]>;
    audit: Statement<[number, string, string, string, string, string | null, string | null]>;
    dueMonitors: Statement<[number, number], { id: string; interval_ms: number; jitter_seed: number; next_due_at: number | null; regions: string }>;
    insertJob: Statement<[string, string, string, number, number]>;
    advanceMonitor: Statement<[number, number | null, string]>;
    getJob: Statement<[string], JobRecord>;
    insertResult: Statement<[Record<string, unknown>]>;
    resultWorker: Statement<[string, number], { worker_id: string | null }>;
    getWorker: Statement<[string], WorkerRow>;
    upsertWorker: Statement<[Record<string, unknown>]>;
    touchWorker: Statement<[number, string]>;
    markInactive: Statement<[number], { id: string }>;
    rollupSeq: Statement<[], { value: number }>;
    setRollupSeq: Statement<[number]>;
    pendingResults: Statement<[number, number], { seq: number; monitor_id: string; region: string; event_at: number; status: string; total_ms: number | null }>;
    getRollup: Record<Resolution, Statement<[string, string, number], StoredBucket>>;
    putRollup: Record<Resolution, Statement<[Record<string, unknown>]>>;
  };

  constructor(readonly db: SqliteDb) {
    migrate(db, 'monitoring', MONITORING_MIGRATIONS);
    this.leasing = new SqliteLeasing(db);
    const monitorCols =
      'id, name, owner, type, url, method, headers, body, interval_ms, timeout_ms, assertions, assertions_compiled, options, regions, enabled, jitter_seed, last_scheduled_at, next_due_at, created_at, updated_at, deleted_at';
    const monitorVals = monitorCols
      .split(', ')
      .map((c) => `@${c}`)
      .join(', ');
    this.s = {
      getMonitor: db.prepare(`SELECT ${monitorCols} FROM monitors WHERE id = ?`),
      insertMonitor: db.prepare(`INSERT INTO monitors (${monitorCols}) VALUES (${monitorVals})`),
      replaceMonitor: db.prepare(
        `UPDATE monitors SET ${monitorCols
          .split(', ')
          .filter((c) => c !== 'id')
          .map((c) => `${c} = @${c}`)
          .join(', ')} WHERE id = @id`,
      ),
      cancelReadyJobs: db.prepare(
        `UPDATE jobs SET status = 'done', outcome = 'cancelled', finished_at = ?, deleted_at = ? WHERE monitor_id = ? AND status = 'ready'`,
      ),
      cancelReadyJobsOutside: db.prepare(
        `UPDATE jobs SET status = 'done', outcome = 'cancelled', finished_at = ?, deleted_at = ?
          WHERE monitor_id = ? AND status = 'ready' AND region NOT IN (SELECT value FROM json_each(?))`,
      ),
      audit: db.prepare(
        'INSERT INTO audit_log (at, actor, action, entity_type, entity_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      dueMonitors: db.prepare(`
        SELECT id, interval_ms, jitter_seed, next_due_at, regions FROM monitors
         WHERE enabled = 1 AND deleted_at IS NULL AND next_due_at <= ?
         ORDER BY next_due_at LIMIT ?`),
      insertJob: db.prepare(
        `INSERT OR IGNORE INTO jobs (run_id, monitor_id, region, status, scheduled_at, attempts, created_at) VALUES (?, ?, ?, 'ready', ?, 0, ?)`,
      ),
      advanceMonitor: db.prepare('UPDATE monitors SET next_due_at = ?, last_scheduled_at = COALESCE(?, last_scheduled_at) WHERE id = ?'),
      getJob: db.prepare('SELECT * FROM jobs WHERE run_id = ?'),
      insertResult: db.prepare(
        `INSERT INTO results_raw (${RESULT_COLUMNS.join(', ')}) VALUES (${RESULT_COLUMNS.map((c) => `@${c}`).join(', ')})
         ON CONFLICT (run_id, event_at) DO NOTHING`,
      ),
      resultWorker: db.prepare('SELECT worker_id FROM results_raw WHERE run_id = ? AND event_at = ?'),
      getWorker: db.prepare('SELECT * FROM workers WHERE id = ?'),
      upsertWorker: db.prepare(`
        INSERT INTO workers (id, hostname, region, version, capabilities, status, enrolled_at, last_seen_at)
        VALUES (@id, @hostname, @region, @version, @capabilities, 'active', @now, @now)
        ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, region = excluded.region, version = excluded.version,
          capabilities = excluded.capabilities, last_seen_at = excluded.last_seen_at,
          status = CASE WHEN workers.revoked_at IS NULL THEN 'active' ELSE 'revoked' END`),
      touchWorker: db.prepare(
        `UPDATE workers SET last_seen_at = ?, status = CASE WHEN status = 'inactive' THEN 'active' ELSE status END WHERE id = ?`,
      ),
      markInactive: db.prepare(`UPDATE workers SET status = 'inactive' WHERE status = 'active' AND last_seen_at < ? RETURNING id`),
      rollupSeq: db.prepare(`SELECT value FROM monitoring_state WHERE key = 'rollup_seq'`),
      setRollupSeq: db.prepare(`UPDATE monitoring_state SET value = ? WHERE key = 'rollup_seq'`),
      pendingResults: db.prepare(
        'SELECT seq, monitor_id, region, event_at, status, total_ms FROM results_raw WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      getRollup: Object.fromEntries(
        RESOLUTIONS.map((r) => [r, db.prepare(`SELECT * FROM results_agg_${r} WHERE monitor_id = ? AND region = ? AND bucket_start = ?`)]),
      ) as Record<Resolution, Statement<[string, string, number], StoredBucket>>,
      putRollup: Object.fromEntries(
        RESOLUTIONS.map((r) => [
          r,
          db.prepare(`
            INSERT INTO results_agg_${r} (monitor_id, region, bucket_start, count, up_count, error_count, lat_count, lat_sum,
                                          lat_min, lat_max, p50_ms, p95_ms, p99_ms, sketch)
            VALUES (@monitor_id, @region, @bucket_start, @count, @up_count, @error_count, @lat_count, @lat_sum,
                    @lat_min, @lat_max, @p50_ms, @p95_ms, @p99_ms, @sketch)
            ON CONFLICT (monitor_id, region, bucket_start) DO UPDATE SET
              count = excluded.count, up_count = excluded.up_count, error_count = excluded.error_count,
              lat_count = excluded.lat_count, lat_sum = excluded.lat_sum, lat_min = excluded.lat_min, lat_max = excluded.lat_max,
              p50_ms = excluded.p50_ms, p95_ms = excluded.p95_ms, p99_ms = excluded.p99_ms, sketch = excluded.sketch`),
        ]),
      ) as Record<Resolution, Statement<[Record<string, unknown>]>>,
    };
  }

  // ---- monitors -------------------------------------------------------------------------------------------

  private getMonitorSync(id: string): MonitorRecord | null {
    const row = this.s.getMonitor.get(id);
    return row ? monitorFromRow(row) : null;
  }

  private recordAudit(at: number, actor: string, action: string, id: string, before: MonitorRecord | null, after: MonitorRecord | null): void {
    this.s.audit.run(at, actor, action, 'monitor', id, before ? JSON.stringify(before) : null, after ? JSON.stringify(after) : null);
  }

  async createMonitor(spec: MonitorSpec, meta: { id: string; actor: string; now: number; jitterSeed: number }): Promise<MonitorRecord> {
    const rec = newMonitorRecord(spec, meta);
    this.db.transaction(() => {
      this.s.insertMonitor.run(monitorToParams(rec));
      this.recordAudit(meta.now, meta.actor, 'monitor.create', rec.id, null, rec);
    })();
    return rec;
  }

  async getMonitor(id: string): Promise<MonitorRecord | null> {
    return this.getMonitorSync(id);
  }

  async updateMonitor(id: string, patch: Partial<MonitorSpec>, meta: { actor: string; now: number }): Promise<MonitorRecord | null> {
    return this.db
      .transaction((): MonitorRecord | null => {
        const before = this.getMonitorSync(id);
        if (!before || before.deleted_at !== null) return null;
        const after = patchedMonitor(before, patch, meta.now);
        this.s.replaceMonitor.run(monitorToParams(after));
        if (!after.enabled) this.s.cancelReadyJobs.run(meta.now, meta.now, id);
        else if (patch.regions) this.s.cancelReadyJobsOutside.run(meta.now, meta.now, id, JSON.stringify(after.regions));
        this.recordAudit(meta.now, meta.actor, 'monitor.update', id, before, after);
        return after;
      })
      .immediate();
  }

  async deleteMonitor(id: string, meta: { actor: string; now: number }): Promise<MonitorRecord | null> {
    return this.db
      .transaction((): MonitorRecord | null => {
        const before = this.getMonitorSync(id);
        if (!before || before.deleted_at !== null) return null;
        const after: MonitorRecord = { ...before, deleted_at: meta.now, updated_at: meta.now };
        this.s.replaceMonitor.run(monitorToParams(after));
        this.s.cancelReadyJobs.run(meta.now, meta.now, id);
        this.recordAudit(meta.now, meta.actor, 'monitor.delete', id, before, after);
        return after;
      })
      .immediate();
  }

  async listMonitors(opts: { includeDeleted: boolean; limit: number; after?: string }): Promise<MonitorRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM monitors WHERE id > ? ${opts.includeDeleted ? '' : 'AND deleted_at IS NULL'} ORDER BY id LIMIT ?`,
      )
      .all(opts.after ?? '', opts.limit) as MonitorRow[];
    return rows.map(monitorFromRow);
  }

  async listAudit(opts: { entityId?: string; limit: number }): Promise<AuditEvent[]> {
    const rows = opts.entityId
      ? this.db.prepare('SELECT * FROM audit_log WHERE entity_id = ? ORDER BY id DESC LIMIT ?').all(opts.entityId, opts.limit)
      : this.db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?').all(opts.limit);
    return rows as AuditEvent[];
  }

  // ---- scheduler ------------------------------------------------------------------------------------------

  async scheduleDue(
    now: number,
    lookaheadMs: number,
    plan: (m: SchedulableMonitor) => RunPlan,
    newRunId: () => string,
  ): Promise<ScheduleOutcome> {
    const out: ScheduleOutcome = { monitors: 0, jobs: 0, catchUps: 0 };
    const batch = 1000;
    const step = this.db.transaction((): number => {
      const due = this.s.dueMonitors.all(now + lookaheadMs, batch);
      for (const m of due) {
        const p = plan(m);
        const regions = JSON.parse(m.regions) as string[];
        for (const at of p.runs) {
          for (const region of regions) out.jobs += this.s.insertJob.run(newRunId(), m.id, region, at, now).changes;
        }
        const last = p.runs.length > 0 ? Math.max(...p.runs) : null;
        // A plan must move the cadence forward, or this loop would never end.
        this.s.advanceMonitor.run(Math.max(p.nextDueAt, now + lookaheadMs + 1), last, m.id);
        out.monitors++;
        if (p.catchUp) out.catchUps++;
      }
      return due.length;
    });
    while (step.immediate() === batch) {
      /* next batch */
    }
    return out;
  }

  // ---- dispatcher -----------------------------------------------------------------------------------------

  async leaseJobs(opts: LeaseOptions): Promise<LeasedJob[]> {
    return this.leasing.lease(opts);
  }

  async renewLeases(opts: { workerId: string; runIds: string[]; now: number; leaseMs: number }): Promise<{ renewed: string[]; lost: string[] }> {
    return this.leasing.renewLeases(opts);
  }

  async reapExpired(opts: { now: number; maxAttempts: number; missedBefore: number }): Promise<ReapOutcome> {
    return this.db
      .transaction((): ReapOutcome => {
        const r = this.leasing.reap(opts);
        for (const j of r.expired) {
          this.s.insertResult.run({
            ...nullResult(j.run_id, opts.now),
            monitor_id: j.monitor_id,
            region: j.region,
            worker_id: j.worker_id,
            status: 'expired',
            error: `lease expired ${j.attempts} time(s); job closed`,
            error_class: 'lease_expired',
            ingested_at: opts.now,
          });
        }
        return { requeued: r.requeued, expired: r.expired.length, missed: r.missed };
      })
      .immediate();
  }

  async getJob(runId: string): Promise<JobRecord | null> {
    return this.s.getJob.get(runId) ?? null;
  }

  async countJobs(): Promise<Record<JobStatus, number>> {
    const rows = this.db.prepare('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status').all() as Array<{ status: JobStatus; n: number }>;
    const out: Record<JobStatus, number> = { ready: 0, leased: 0, done: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }

  // ---- ingest ---------------------------------------------------------------------------------------------

  async ingestResults(items: Array<{ workerId: string; result: ResultInput }>, now: number): Promise<IngestOutcome[]> {
    return this.db
      .transaction((): IngestOutcome[] =>
        items.map(({ workerId, result }) => {
          const job = this.leasing.completeHeld(result.run_id, workerId, now);
          if (job) {
            this.s.insertResult.run({ ...result, monitor_id: job.monitor_id, region: job.region, worker_id: workerId, ingested_at: now });
            return 'stored';
          }
          const existing = this.s.resultWorker.get(result.run_id, result.event_at);
          return existing && existing.worker_id === workerId ? 'duplicate' : 'lease_lost';
        }),
      )
      .immediate();
  }

  async listResults(opts: { monitorId: string; from?: number; to?: number; region?: string; limit: number }): Promise<ResultRecord[]> {
    const where = ['monitor_id = @monitorId'];
    if (opts.from) where.push('event_at >= @from');
    if (opts.to) where.push('event_at < @to');
    if (opts.region) where.push('region = @region');
    return this.db
      .prepare(`SELECT ${RESULT_COLUMNS.join(', ')} FROM results_raw WHERE ${where.join(' AND ')} ORDER BY event_at DESC LIMIT @limit`)
      .all({ monitorId: opts.monitorId, from: opts.from ?? 0, to: opts.to ?? 0, region: opts.region ?? '', limit: opts.limit }) as ResultRecord[];
  }

  // ---- rollups --------------------------------------------------------------------------------------------

  async rollupPending(maxRows: number): Promise<number> {
    return this.db
      .transaction((): number => {
        const from = this.s.rollupSeq.get()!.value;
        const rows = this.s.pendingResults.all(from, maxRows);
        if (rows.length === 0) return 0;
        for (const res of RESOLUTIONS) {
          for (const g of groupIntoBuckets(rows, res)) {
            this.s.putRollup[res].run({ ...foldBucket(g, this.s.getRollup[res].get(g.monitor_id, g.region, g.bucket_start)) });
          }
        }
        this.s.setRollupSeq.run(rows[rows.length - 1]!.seq);
        return rows.length;
      })
      .immediate();
  }

  async queryRollups(opts: { monitorId: string; resolution: Resolution; from: number; to: number; region?: string }): Promise<RollupRecord[]> {
    const table = `results_agg_${opts.resolution}`;
    const regionClause = opts.region ? 'AND region = @region' : '';
    const rows = this.db
      .prepare(
        `SELECT monitor_id, region, bucket_start, count, up_count, error_count, lat_count, lat_sum, lat_min, lat_max, sketch
           FROM ${table} WHERE monitor_id = @monitorId AND bucket_start >= @from AND bucket_start < @to ${regionClause}
          ORDER BY bucket_start, region`,
      )
      .all({ monitorId: opts.monitorId, from: opts.from, to: opts.to, region: opts.region ?? '' }) as RollupRecord[];
    return rows;
  }

  async queryRollupCounts(opts: { monitorIds: readonly string[]; resolution: Resolution; from: number; to: number }): Promise<RollupCount[]> {
    if (!RESOLUTIONS.includes(opts.resolution)) throw new Error(`unknown resolution: ${String(opts.resolution)}`);
    if (opts.monitorIds.length === 0) return [];
    return this.db
      .prepare(
        `SELECT monitor_id, bucket_start, SUM(count) AS count, SUM(up_count) AS up_count FROM results_agg_${opts.resolution}
          WHERE monitor_id IN (SELECT value FROM json_each(?)) AND bucket_start >= ? AND bucket_start < ?
          GROUP BY monitor_id, bucket_start ORDER BY monitor_id, bucket_start`,
      )
      .all(JSON.stringify(opts.monitorIds), opts.from, opts.to) as RollupCount[];
  }

  async queryUptimeTotals(opts: { monitorIds: readonly string[]; resolution: Resolution; from: number; to: number }): Promise<UptimeTotal[]> {
    if (!RESOLUTIONS.includes(opts.resolution)) throw new Error(`unknown resolution: ${String(opts.resolution)}`);
    if (opts.monitorIds.length === 0) return [];
    return this.db
      .prepare(
        `SELECT monitor_id, SUM(count) AS count, SUM(up_count) AS up_count FROM results_agg_${opts.resolution}
          WHERE monitor_id IN (SELECT value FROM json_each(?)) AND bucket_start >= ? AND bucket_start < ?
          GROUP BY monitor_id ORDER BY monitor_id`,
      )
      .all(JSON.stringify(opts.monitorIds), opts.from, opts.to) as UptimeTotal[];
  }

  async deleteExpired(c: RetentionCutoffs): Promise<{ results: number; rollups: number; jobs: number }> {
    const ids = (this.db.prepare('SELECT id FROM monitors').all() as Array<{ id: string }>).map((r) => r.id);
    const delResults = this.db.prepare(
      `DELETE FROM results_raw WHERE monitor_id = ? AND event_at < ? AND seq <= (SELECT value FROM monitoring_state WHERE key = 'rollup_seq')`,
    );
    const delRollup = RESOLUTIONS.map((r) => this.db.prepare(`DELETE FROM results_agg_${r} WHERE monitor_id = ? AND bucket_start < ?`));
    const cut = [c.rollup1mBefore, c.rollup1hBefore, c.rollup1dBefore];
    let results = 0;
    let rollups = 0;
    const chunk = this.db.transaction((part: string[]) => {
      for (const id of part) {
        results += delResults.run(id, c.resultsBefore).changes;
        delRollup.forEach((stmt, i) => {
          rollups += stmt.run(id, cut[i]!).changes;
        });
      }
    });
    for (let i = 0; i < ids.length; i += 100) chunk.immediate(ids.slice(i, i + 100));
    const jobs = this.db.prepare(`DELETE FROM jobs WHERE status = 'done' AND finished_at < ?`).run(c.jobsBefore).changes;
    return { results, rollups, jobs };
  }

  // ---- workers --------------------------------------------------------------------------------------------

  async getWorker(id: string): Promise<WorkerRecord | null> {
    const row = this.s.getWorker.get(id);
    return row ? workerFromRow(row) : null;
  }

  async upsertWorker(w: Pick<WorkerRecord, 'id' | 'hostname' | 'region' | 'version' | 'capabilities'>, now: number): Promise<WorkerRecord> {
    this.s.upsertWorker.run({ ...w, capabilities: JSON.stringify(w.capabilities), now });
    return workerFromRow(this.s.getWorker.get(w.id)!);
  }

  async touchWorkers(ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    this.db.transaction(() => {
      for (const id of ids) this.s.touchWorker.run(now, id);
    })();
  }

  async markInactiveWorkers(seenBefore: number): Promise<string[]> {
    return this.s.markInactive.all(seenBefore).map((r) => r.id);
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (this.db.prepare('SELECT * FROM workers ORDER BY id').all() as WorkerRow[]).map(workerFromRow);
  }

  async revokeWorker(id: string, reason: string, now: number): Promise<boolean> {
    return (
      this.db
        .prepare(`UPDATE workers SET status = 'revoked', revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL`)
        .run(now, reason, id).changes === 1
    );
  }
}
