/**
 * The monitoring control plane's storage contract: one typed interface, one implementation per database
 * (SQLite: ./sqlite/monitoring.ts; PostgreSQL later, with `FOR UPDATE SKIP LOCKED` leasing).
 * Every method is async so that a networked database fits behind it unchanged.
 * Times are Unix epoch milliseconds.
 */
import type { RunPlan, SchedulableMonitor } from '../monitoring/domain/schedule-math.js';
import type { Resolution, RollupRecord } from '../monitoring/domain/rollup-math.js';
import type { ResultInput } from '../monitoring/domain/result.js';

// The rollup shapes are domain types (the bucketing is pure); re-exported for the store's callers.
export { RESOLUTION_MS, type Resolution, type RollupRecord } from '../monitoring/domain/rollup-math.js';
export type { ResultInput } from '../monitoring/domain/result.js';

export type JobStatus = 'ready' | 'leased' | 'done';
/** Why a job is done: a stored result, lease expired max attempts, never leased in time, or its monitor went away. */
export type JobOutcome = 'result' | 'expired' | 'missed' | 'cancelled';
export type ResultStatus = 'up' | 'down' | 'expired';
export type WorkerStatus = 'active' | 'inactive' | 'revoked';

/** What a user configures on a monitor. */
export interface MonitorSpec {
  name: string;
  /**
   * The check type's name. The store keeps it as given: the registry of check types
   * (src/monitoring/checks/) validates it where a monitor enters the system.
   */
  type: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  interval_ms: number;
  timeout_ms: number;
  /** Assertions in their text syntax, as the user wrote them. */
  assertions: string[];
  /** The same assertions parsed (what workers receive). */
  assertions_compiled: unknown[];
  options: Record<string, unknown>;
  regions: string[];
  enabled: boolean;
}

export interface MonitorRecord extends MonitorSpec {
  id: string;
  owner: string;
  jitter_seed: number;
  last_scheduled_at: number | null;
  next_due_at: number | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/** A job handed to a worker: the job row plus the monitor's check fields. */
export interface LeasedJob {
  run_id: string;
  monitor_id: string;
  region: string;
  scheduled_at: number;
  lease_expires_at: number;
  /** 1-based attempt number of this lease. */
  attempt: number;
  monitor: Pick<MonitorRecord, 'name' | 'type' | 'url' | 'method' | 'headers' | 'body' | 'timeout_ms' | 'options' | 'assertions_compiled'>;
}

export interface LeaseOptions {
  workerId: string;
  region: string;
  count: number;
  now: number;
  leadMs: number;
  leaseMs: number;
  /** Check types the worker can run; absent = any type. An empty list leases nothing. */
  types?: readonly string[];
}

export interface JobRecord {
  run_id: string;
  monitor_id: string;
  region: string;
  status: JobStatus;
  scheduled_at: number;
  lease_expires_at: number | null;
  worker_id: string | null;
  attempts: number;
  outcome: JobOutcome | null;
  created_at: number;
  finished_at: number | null;
  deleted_at: number | null;
}

export interface ResultRecord extends Omit<ResultInput, 'status'> {
  status: ResultStatus;
  monitor_id: string;
  region: string;
  worker_id: string | null;
  ingested_at: number;
}

/**
 * stored: written now; duplicate: this worker's same (run_id, event_at) was already stored (ack it again);
 * lease_lost: the worker does not hold the job's lease (not stored).
 */
export type IngestOutcome = 'stored' | 'duplicate' | 'lease_lost';

export interface WorkerRecord {
  id: string;
  hostname: string;
  region: string;
  version: string;
  capabilities: string[];
  status: WorkerStatus;
  enrolled_at: number;
  last_seen_at: number;
  certificate_expires_at: number | null;
  revoked_at: number | null;
  revoked_reason: string | null;
}

export interface AuditEvent {
  id: number;
  at: number;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  before: string | null;
  after: string | null;
}

export interface ScheduleOutcome {
  monitors: number;
  jobs: number;
  catchUps: number;
}

export interface ReapOutcome {
  /** Expired leases put back to ready (attempts + 1). */
  requeued: number;
  /** Jobs closed with an expiry result after the last attempt. */
  expired: number;
  /** Ready jobs nobody leased in time, closed without a result. */
  missed: number;
}

/** Run counts of one monitor over a range, summed over its buckets and regions (uptime = up_count / count). */
export interface UptimeTotal {
  monitor_id: string;
  count: number;
  up_count: number;
}

/** Counts of one bucket of one monitor, summed over its regions. */
export interface RollupCount {
  monitor_id: string;
  bucket_start: number;
  count: number;
  up_count: number;
}

export interface RetentionCutoffs {
  resultsBefore: number;
  rollup1mBefore: number;
  rollup1hBefore: number;
  rollup1dBefore: number;
  jobsBefore: number;
}

export interface MonitoringStore {
  // Monitors (every change is audited in the same transaction).
  createMonitor(spec: MonitorSpec, meta: { id: string; actor: string; now: number; jitterSeed: number }): Promise<MonitorRecord>;
  getMonitor(id: string): Promise<MonitorRecord | null>;
  /** Replaces the given fields; null when the monitor does not exist or is deleted. */
  updateMonitor(id: string, patch: Partial<MonitorSpec>, meta: { actor: string; now: number }): Promise<MonitorRecord | null>;
  /** Soft delete: sets deleted_at and cancels its ready jobs. Null when missing or already deleted. */
  deleteMonitor(id: string, meta: { actor: string; now: number }): Promise<MonitorRecord | null>;
  /** Ordered by id; `after` is the last id of the previous page. */
  listMonitors(opts: { includeDeleted: boolean; limit: number; after?: string }): Promise<MonitorRecord[]>;
  listAudit(opts: { entityId?: string; limit: number }): Promise<AuditEvent[]>;

  // Scheduler.
  /**
   * In one transaction per batch: picks enabled, non-deleted monitors whose next_due_at ≤ now + lookahead,
   * asks `plan` for their runs, inserts one job per (run, region) (a duplicate slot is ignored) and advances
   * next_due_at — so a restart can never create the same run twice.
   */
  scheduleDue(now: number, lookaheadMs: number, plan: (m: SchedulableMonitor) => RunPlan, newRunId: () => string): Promise<ScheduleOutcome>;

  // Dispatcher (all leasing SQL lives in one module per implementation).
  /**
   * Leases up to `count` ready jobs with scheduled_at ≤ now + leadMs: the worker's region first, then `global`.
   * With `types`, only jobs whose monitor type is in the list (the check types the worker can run).
   */
  leaseJobs(opts: LeaseOptions): Promise<LeasedJob[]>;
  /** Extends leases this worker holds; `lost` are the ones it no longer holds. */
  renewLeases(opts: { workerId: string; runIds: string[]; now: number; leaseMs: number }): Promise<{ renewed: string[]; lost: string[] }>;
  /** Expired leases back to ready (attempts + 1), or closed with an expiry result after `maxAttempts`. */
  reapExpired(opts: { now: number; maxAttempts: number; missedBefore: number }): Promise<ReapOutcome>;
  getJob(runId: string): Promise<JobRecord | null>;
  countJobs(): Promise<Record<JobStatus, number>>;

  // Ingest.
  /** One transaction for the batch: per item, complete the job held by the worker and insert the result (idempotent). */
  ingestResults(items: Array<{ workerId: string; result: ResultInput }>, now: number): Promise<IngestOutcome[]>;
  listResults(opts: { monitorId: string; from?: number; to?: number; region?: string; limit: number }): Promise<ResultRecord[]>;

  // Rollups.
  /** Folds up to `maxRows` not-yet-rolled-up results into the 1m/1h/1d buckets; returns how many it folded. */
  rollupPending(maxRows: number): Promise<number>;
  queryRollups(opts: { monitorId: string; resolution: Resolution; from: number; to: number; region?: string }): Promise<RollupRecord[]>;
  /**
   * Run counts of many monitors at once, summed over regions, without latency sketches (status pages and
   * badges: one query for a whole page). Ordered by monitor id, then bucket_start.
   */
  queryRollupCounts(opts: { monitorIds: readonly string[]; resolution: Resolution; from: number; to: number }): Promise<RollupCount[]>;
  /**
   * Run counts of many monitors over [from, to), one row per monitor that has buckets there (the uptime of a
   * whole page of monitors, e.g. 30 days from the 1d rollups, in one query). Ordered by monitor id.
   */
  queryUptimeTotals(opts: { monitorIds: readonly string[]; resolution: Resolution; from: number; to: number }): Promise<UptimeTotal[]>;
  /** Deletes old raw results (only already rolled up), rollups and finished jobs. */
  deleteExpired(cutoffs: RetentionCutoffs): Promise<{ results: number; rollups: number; jobs: number }>;

  // Workers.
  getWorker(id: string): Promise<WorkerRecord | null>;
  /** Creates or refreshes a worker on registration (status active). */
  upsertWorker(w: Pick<WorkerRecord, 'id' | 'hostname' | 'region' | 'version' | 'capabilities'>, now: number): Promise<WorkerRecord>;
  touchWorkers(ids: string[], now: number): Promise<void>;
  /** Marks active workers last seen before `seenBefore` inactive; returns their ids. */
  markInactiveWorkers(seenBefore: number): Promise<string[]>;
  listWorkers(): Promise<WorkerRecord[]>;
  revokeWorker(id: string, reason: string, now: number): Promise<boolean>;

  // Replicas.
  /**
   * Calls `fn` when another replica made jobs ready (scheduled or requeued), so that this replica's dispatcher
   * leases them without waiting for its next poll (absent on SQLite: one server). Returns the unsubscribe function.
   */
  onJobsReady?(fn: () => void): () => void;
}
