/**
 * The dashboard's read queries over the monitoring tables (no tables of its own, one index): monitor states,
 * the 24 h figures from the 1h rollups, recent failures, the slowest monitors, and a filtered, paginated monitor
 * list. One implementation per database (./sqlite/dashboard.ts, ./postgres/dashboard.ts) over the same SQL
 * (./dashboard-sql.ts); the contract suite in test/store/contract/dashboard.ts runs on both.
 * Times are Unix epoch milliseconds. System-owned monitors (owner "system:…") are left out everywhere.
 */

/** paused: disabled; pending: enabled and no result yet; up/down: the latest result (expired counts as down). */
export type MonitorState = 'up' | 'down' | 'paused' | 'pending';
export const MONITOR_STATES: readonly MonitorState[] = ['up', 'down', 'paused', 'pending'];

export interface MonitorFilter {
  /** Case-insensitive substring of the name or URL. */
  search?: string;
  /** Any of these states (empty/absent = all). */
  states?: readonly MonitorState[];
  /** Monitors that run in this region (as configured, e.g. "eu-west" or "global"). */
  region?: string;
  /** Check type ("http", "tcp", …). */
  type?: string;
}

export interface MonitorStateRow {
  id: string;
  state: MonitorState;
  last_event_at: number | null;
}

export interface OverviewCounts {
  total: number;
  up: number;
  down: number;
  paused: number;
  pending: number;
}

export interface RecentFailure {
  monitor_id: string;
  monitor_name: string;
  region: string;
  event_at: number;
  status: string;
  http_code: number | null;
  error: string | null;
  error_class: string | null;
}

export interface SlowMonitor {
  monitor_id: string;
  monitor_name: string;
  p95_ms: number;
  p99_ms: number;
}

/** Per monitor: the last `bars` results (newest first) and the 24 h uptime from the 1h rollups. */
export interface MonitorSummary {
  monitor_id: string;
  state: MonitorState;
  /** Newest first. */
  recent: Array<{ status: string; event_at: number; total_ms: number | null }>;
  runs_24h: number;
  up_24h: number;
}

export interface DashboardStore {
  counts(): Promise<OverviewCounts>;
  /** Runs and failures in the 1h buckets starting at or after `since`. */
  runsSince(since: number): Promise<{ runs: number; failures: number }>;
  /** Newest first, results not up, event_at ≥ since. */
  recentFailures(since: number, limit: number): Promise<RecentFailure[]>;
  /** Worst p95 (over regions) in the 1h buckets starting at or after `since`, slowest first. */
  slowest(since: number, limit: number): Promise<SlowMonitor[]>;
  /** One page of matching monitors ordered by id; `after` is the last id of the previous page. */
  listMonitors(filter: MonitorFilter, page: { after?: string; limit: number }): Promise<MonitorStateRow[]>;
  /** How many monitors match (the list's total). */
  countMonitors(filter: MonitorFilter): Promise<number>;
  summaries(ids: readonly string[], opts: { bars: number; since24h: number }): Promise<MonitorSummary[]>;
}
