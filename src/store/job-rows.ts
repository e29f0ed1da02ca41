/**
 * The rows the leasing statements of every database read, and their mapping to LeasedJob (one definition for
 * src/store/sqlite/leasing.ts and src/store/postgres/leasing.ts; only the SQL differs).
 */
import type { LeasedJob } from './monitoring.js';

/** A ready job joined with the check fields of its monitor (JSON columns as text). */
export interface LeasedJobRow {
  run_id: string;
  monitor_id: string;
  region: string;
  scheduled_at: number;
  attempts: number;
  name: string;
  type: string;
  url: string;
  method: string;
  headers: string;
  body: string;
  timeout_ms: number;
  options: string;
  assertions_compiled: string;
}

/** A lease the reaper found expired. */
export interface ExpiredJob {
  run_id: string;
  monitor_id: string;
  region: string;
  worker_id: string | null;
  attempts: number;
}

/** The job as handed to the worker that now holds it until `expires` (this lease is attempt `attempts + 1`). */
export function leasedJobFromRow(r: LeasedJobRow, expires: number): LeasedJob {
  return {
    run_id: r.run_id,
    monitor_id: r.monitor_id,
    region: r.region,
    scheduled_at: r.scheduled_at,
    lease_expires_at: expires,
    attempt: r.attempts + 1,
    monitor: {
      name: r.name,
      type: r.type,
      url: r.url,
      method: r.method,
      headers: JSON.parse(r.headers) as Record<string, string>,
      body: r.body,
      timeout_ms: r.timeout_ms,
      options: JSON.parse(r.options) as Record<string, unknown>,
      assertions_compiled: JSON.parse(r.assertions_compiled) as unknown[],
    },
  };
}
