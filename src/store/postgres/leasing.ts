/**
 * All job-leasing SQL of the PostgreSQL store, in one place (the same state machine as src/store/sqlite/leasing.ts):
 *
 *   ready ──lease──▶ leased ──result──▶ done (outcome 'result')
 *     ▲                │ lease expired (reaper)
 *     └──attempts + 1──┤
 *                      └─ last attempt ──▶ done (outcome 'expired', with an expiry result)
 *
 * Exactly-once assignment across replicas: a lease selects ready rows `FOR UPDATE SKIP LOCKED` and updates
 * them in the same statement, so two replicas leasing at once lock disjoint rows and never wait on each other.
 * Every renew/complete is guarded by `worker_id = $w AND status = 'leased'`; a concurrent reaper's update is
 * re-checked by PostgreSQL after its commit, so a requeued lease can no longer be renewed or completed.
 */
import type pg from 'pg';
import type { LeasedJob, LeaseOptions } from '../monitoring.js';
import type { Queryable } from './db.js';
import { leasedJobFromRow, type ExpiredJob, type LeasedJobRow } from '../job-rows.js';

export type { ExpiredJob } from '../job-rows.js';




const LEASE_SQL = `
WITH picked AS (
  SELECT j.run_id FROM jobs j JOIN monitors m ON m.id = j.monitor_id
   WHERE j.status = 'ready' AND j.region = $1 AND j.scheduled_at <= $2 AND j.deleted_at IS NULL
     AND ($5::text[] IS NULL OR m.type = ANY($5::text[]))
   ORDER BY j.scheduled_at
   LIMIT $3
   FOR UPDATE OF j SKIP LOCKED
)
UPDATE jobs j SET status = 'leased', worker_id = $4, lease_expires_at = $6
  FROM picked, monitors m
 WHERE j.run_id = picked.run_id AND m.id = j.monitor_id
RETURNING j.run_id, j.monitor_id, j.region, j.scheduled_at, j.attempts,
          m.name, m.type, m.url, m.method, m.headers, m.body, m.timeout_ms, m.options, m.assertions_compiled`;

/**
 * The job side of an ingest statement (src/store/postgres/results.ts runs the batch as one statement): CTEs that
 * lock, in run_id order, the jobs of `items` (a relation with run_id and worker_id) still leased by the sender
 * and complete them. `done` returns run_id, worker_id, monitor_id and region of each job completed.
 */
export function completeHeldCtes(items: string, nowParam: string): string {
  return `held AS (
  SELECT j.run_id FROM jobs j JOIN (SELECT DISTINCT run_id, worker_id FROM ${items}) i ON j.run_id = i.run_id AND j.worker_id = i.worker_id
   WHERE j.status = 'leased' ORDER BY j.run_id FOR UPDATE OF j
),
done AS (
  UPDATE jobs j SET status = 'done', outcome = 'result', finished_at = ${nowParam}, lease_expires_at = NULL
    FROM held WHERE j.run_id = held.run_id AND j.status = 'leased'
  RETURNING j.run_id, j.worker_id, j.monitor_id, j.region
)`;
}

export class PgLeasing {
  constructor(private readonly pool: pg.Pool) {}

  /** Leases up to `count` due jobs: the worker's region first, then `global`; each group oldest first. */
  async lease(opts: LeaseOptions): Promise<LeasedJob[]> {
    const count = Math.max(0, Math.trunc(opts.count));
    if (count === 0 || opts.types?.length === 0) return [];
    const dueBy = opts.now + opts.leadMs;
    const expires = opts.now + opts.leaseMs;
    const types = opts.types ? [...opts.types] : null;
    const take = async (region: string, n: number): Promise<LeasedJob[]> => {
      const r = await this.pool.query<LeasedJobRow>(LEASE_SQL, [region, dueBy, n, opts.workerId, types, expires]);
      return r.rows.sort((a, b) => a.scheduled_at - b.scheduled_at || (a.run_id < b.run_id ? -1 : 1)).map((row) => leasedJobFromRow(row, expires));
    };
    const own = await take(opts.region, count);
    if (own.length < count && opts.region !== 'global') own.push(...(await take('global', count - own.length)));
    return own;
  }

  async renewLeases(opts: { workerId: string; runIds: string[]; now: number; leaseMs: number }): Promise<{ renewed: string[]; lost: string[] }> {
    if (opts.runIds.length === 0) return { renewed: [], lost: [] };
    const r = await this.pool.query<{ run_id: string }>(
      `UPDATE jobs SET lease_expires_at = $1
        WHERE run_id IN (SELECT run_id FROM jobs WHERE run_id = ANY($2::text[]) AND worker_id = $3 AND status = 'leased' ORDER BY run_id FOR UPDATE)
          AND worker_id = $3 AND status = 'leased'
       RETURNING run_id`,
      [opts.now + opts.leaseMs, opts.runIds, opts.workerId],
    );
    const held = new Set(r.rows.map((x) => x.run_id));
    return { renewed: opts.runIds.filter((id) => held.has(id)), lost: opts.runIds.filter((id) => !held.has(id)) };
  }

  /** Must run inside the caller's transaction (it records an expiry result for each job closed for good). */
  async reap(c: Queryable, opts: { now: number; maxAttempts: number; missedBefore: number }): Promise<{ expired: ExpiredJob[]; requeued: number; missed: number }> {
    // SKIP LOCKED: a lease being completed, renewed or leased right now is left alone (this pass or the next
    // one sees its outcome), so the reaper never waits on, or deadlocks with, ingest.
    const expired = await c.query<ExpiredJob>(
      `UPDATE jobs SET status = 'done', outcome = 'expired', attempts = attempts + 1, finished_at = $1, lease_expires_at = NULL
        WHERE run_id IN (SELECT run_id FROM jobs WHERE status = 'leased' AND lease_expires_at < $1 AND attempts + 1 >= $2 FOR UPDATE SKIP LOCKED)
       RETURNING run_id, monitor_id, region, worker_id, attempts`,
      [opts.now, opts.maxAttempts],
    );
    const requeued = await c.query(
      `UPDATE jobs SET status = 'ready', worker_id = NULL, lease_expires_at = NULL, attempts = attempts + 1
        WHERE run_id IN (SELECT run_id FROM jobs WHERE status = 'leased' AND lease_expires_at < $1 AND attempts + 1 < $2 FOR UPDATE SKIP LOCKED)`,
      [opts.now, opts.maxAttempts],
    );
    const missed = await c.query(
      `UPDATE jobs SET status = 'done', outcome = 'missed', finished_at = $1
        WHERE run_id IN (SELECT run_id FROM jobs WHERE status = 'ready' AND scheduled_at < $2 FOR UPDATE SKIP LOCKED)`,
      [opts.now, opts.missedBefore],
    );
    return { expired: expired.rows, requeued: requeued.rowCount ?? 0, missed: missed.rowCount ?? 0 };
  }
}
