/**
 * All job-leasing SQL of the SQLite store, in one place (the pg-boss / graphile-worker style):
 *
 *   ready ──lease──▶ leased ──result──▶ done (outcome 'result')
 *     ▲                │ lease expired (reaper)
 *     └──attempts + 1──┤
 *                      └─ last attempt ──▶ done (outcome 'expired', with an expiry result)
 *   ready ──never leased in time──▶ done (outcome 'missed');  monitor deleted/disabled ──▶ done ('cancelled')
 *
 * Exactly-once assignment: a lease is a SELECT of ready rows followed by an UPDATE guarded by `status = 'ready'`,
 * both inside one BEGIN IMMEDIATE transaction. IMMEDIATE takes SQLite's single write lock before reading, so two
 * connections (or processes) can never both see the same row as ready. Every renew/complete is guarded by
 * `worker_id = ? AND status = 'leased'`. (PostgreSQL will use `FOR UPDATE SKIP LOCKED` for the same effect.)
 */
import type { Statement } from 'better-sqlite3';
import type { SqliteDb } from './db.js';
import type { LeasedJob, LeaseOptions } from '../monitoring.js';
import { leasedJobFromRow, type ExpiredJob, type LeasedJobRow } from '../job-rows.js';

export type { ExpiredJob } from '../job-rows.js';



export class SqliteLeasing {
  private readonly selectReady: Statement<[string, number, number], LeasedJobRow>;
  private readonly selectReadyOfTypes: Statement<[string, number, string, number], LeasedJobRow>;
  private readonly markLeased: Statement<[string, number, string]>;
  private readonly renew: Statement<[number, string, string]>;
  private readonly requeueExpired: Statement<[number, number], { run_id: string }>;
  private readonly closeExpired: Statement<[number, number, number], ExpiredJob>;
  private readonly closeMissed: Statement<[number, number]>;
  private readonly complete: Statement<[number, string, string], { monitor_id: string; region: string }>;

  constructor(private readonly db: SqliteDb) {
    const candidates = `
      SELECT j.run_id, j.monitor_id, j.region, j.scheduled_at, j.attempts,
             m.name, m.type, m.url, m.method, m.headers, m.body, m.timeout_ms, m.options, m.assertions_compiled
        FROM jobs j JOIN monitors m ON m.id = j.monitor_id
       WHERE j.status = 'ready' AND j.region = ? AND j.scheduled_at <= ? AND j.deleted_at IS NULL`;
    this.selectReady = db.prepare(`${candidates} ORDER BY j.scheduled_at LIMIT ?`);
    this.selectReadyOfTypes = db.prepare(
      `${candidates} AND m.type IN (SELECT value FROM json_each(?)) ORDER BY j.scheduled_at LIMIT ?`,
    );
    this.markLeased = db.prepare(
      `UPDATE jobs SET status = 'leased', worker_id = ?, lease_expires_at = ? WHERE run_id = ? AND status = 'ready'`,
    );
    this.renew = db.prepare(
      `UPDATE jobs SET lease_expires_at = ? WHERE run_id = ? AND worker_id = ? AND status = 'leased'`,
    );
    this.closeExpired = db.prepare(`
      UPDATE jobs SET status = 'done', outcome = 'expired', attempts = attempts + 1, finished_at = ?, lease_expires_at = NULL
       WHERE status = 'leased' AND lease_expires_at < ? AND attempts + 1 >= ?
      RETURNING run_id, monitor_id, region, worker_id, attempts`);
    this.requeueExpired = db.prepare(`
      UPDATE jobs SET status = 'ready', worker_id = NULL, lease_expires_at = NULL, attempts = attempts + 1
       WHERE status = 'leased' AND lease_expires_at < ? AND attempts + 1 < ?
      RETURNING run_id`);
    this.closeMissed = db.prepare(`
      UPDATE jobs SET status = 'done', outcome = 'missed', finished_at = ?
       WHERE status = 'ready' AND scheduled_at < ?`);
    this.complete = db.prepare(`
      UPDATE jobs SET status = 'done', outcome = 'result', finished_at = ?, lease_expires_at = NULL
       WHERE run_id = ? AND worker_id = ? AND status = 'leased'
      RETURNING monitor_id, region`);
  }

  /**
   * Leases up to `count` due jobs (scheduled_at ≤ now + leadMs): the worker's region first, then `global`; with
   * `types`, only jobs of those check types.
   */
  lease(opts: LeaseOptions): LeasedJob[] {
    const count = Math.max(0, Math.trunc(opts.count));
    if (count === 0 || opts.types?.length === 0) return [];
    const dueBy = opts.now + opts.leadMs;
    const expires = opts.now + opts.leaseMs;
    const types = opts.types ? JSON.stringify(opts.types) : null;
    const select = (region: string, n: number): LeasedJobRow[] =>
      types === null ? this.selectReady.all(region, dueBy, n) : this.selectReadyOfTypes.all(region, dueBy, types, n);
    const run = this.db.transaction((): LeasedJob[] => {
      const rows = select(opts.region, count);
      if (rows.length < count && opts.region !== 'global') {
        rows.push(...select('global', count - rows.length));
      }
      const out: LeasedJob[] = [];
      for (const r of rows) {
        // Cannot fail inside an IMMEDIATE transaction; the guard documents (and enforces) the state machine.
        if (this.markLeased.run(opts.workerId, expires, r.run_id).changes !== 1) continue;
        out.push(leasedJobFromRow(r, expires));
      }
      return out;
    });
    return run.immediate();
  }

  renewLeases(opts: { workerId: string; runIds: string[]; now: number; leaseMs: number }): { renewed: string[]; lost: string[] } {
    const expires = opts.now + opts.leaseMs;
    const run = this.db.transaction(() => {
      const renewed: string[] = [];
      const lost: string[] = [];
      for (const id of opts.runIds) {
        if (this.renew.run(expires, id, opts.workerId).changes === 1) renewed.push(id);
        else lost.push(id);
      }
      return { renewed, lost };
    });
    return run.immediate();
  }

  /**
   * Must run inside the caller's transaction. Returns the jobs closed for good (the caller records an expiry
   * result for each), the number requeued and the number of ready jobs closed as missed.
   */
  reap(opts: { now: number; maxAttempts: number; missedBefore: number }): { expired: ExpiredJob[]; requeued: number; missed: number } {
    const expired = this.closeExpired.all(opts.now, opts.now, opts.maxAttempts);
    const requeued = this.requeueExpired.all(opts.now, opts.maxAttempts).length;
    const missed = this.closeMissed.run(opts.now, opts.missedBefore).changes;
    return { expired, requeued, missed };
  }

  /** Completes a job for a result, only when `workerId` holds its lease. Must run inside the caller's transaction. */
  completeHeld(runId: string, workerId: string, now: number): { monitor_id: string; region: string } | undefined {
    return this.complete.get(now, runId, workerId);
  }
}
