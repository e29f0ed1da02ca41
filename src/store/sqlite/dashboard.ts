/** SQLite implementation of DashboardStore (better-sqlite3, synchronous under the async interface). */
import { migrate, type SqliteDb } from './db.js';
import { slowestByHours } from '../dashboard-slowest.js';
import { DASHBOARD_MIGRATIONS } from './migrations/dashboard.js';
import type { DashboardStore, MonitorFilter, MonitorStateRow, MonitorSummary, OverviewCounts, RecentFailure, SlowMonitor } from '../dashboard.js';
import { countSql, countsSql, ENABLED_SQL, failuresSql, listSql, recentBatchSql, runsSql, SQLITE, stateOf, uptime24hSql, type Sql } from '../dashboard-sql.js';

export class SqliteDashboardStore implements DashboardStore {
  constructor(private readonly db: SqliteDb) {
    migrate(db, 'dashboard', DASHBOARD_MIGRATIONS);
  }

  private all<T>(q: Sql): T[] {
    return this.db.prepare(q.text).all(...q.params) as T[];
  }

  async counts(): Promise<OverviewCounts> {
    return this.all<OverviewCounts>(countsSql(SQLITE))[0]!;
  }

  async runsSince(since: number): Promise<{ runs: number; failures: number }> {
    return this.all<{ runs: number; failures: number }>(runsSql(since))[0]!;
  }

  async recentFailures(since: number, limit: number): Promise<RecentFailure[]> {
    return this.all<RecentFailure>(failuresSql(since, limit));
  }

  async slowest(since: number, limit: number): Promise<SlowMonitor[]> {
    return slowestByHours(async <T>(q: Sql) => this.all<T>(q), SQLITE, since, limit);
  }

  async listMonitors(filter: MonitorFilter, page: { after?: string; limit: number }): Promise<MonitorStateRow[]> {
    const rows = this.all<{ id: string; enabled: number; last_status: string | null; last_event_at: number | null }>(listSql(SQLITE, filter, page));
    return rows.map((r) => ({ id: r.id, state: stateOf(r.enabled === 1, r.last_status), last_event_at: r.last_event_at }));
  }

  async countMonitors(filter: MonitorFilter): Promise<number> {
    return this.all<{ n: number }>(countSql(SQLITE, filter))[0]!.n;
  }

  async summaries(ids: readonly string[], opts: { bars: number; since24h: number }): Promise<MonitorSummary[]> {
    if (ids.length === 0) return [];
    const enabled = new Map(this.all<{ id: string; enabled: number }>({ text: ENABLED_SQL(ids), params: [...ids] }).map((r) => [r.id, r.enabled === 1]));
    const up = new Map(this.all<{ monitor_id: string; runs: number; up: number }>(uptime24hSql(ids, opts.since24h)).map((r) => [r.monitor_id, r]));
    const recent = new Map<string, MonitorSummary['recent']>();
    for (const r of this.all<{ monitor_id: string; status: string; event_at: number; total_ms: number | null }>(recentBatchSql('sqlite', ids, opts.bars))) {
      let list = recent.get(r.monitor_id);
      if (list === undefined) recent.set(r.monitor_id, (list = []));
      list.push({ status: r.status, event_at: r.event_at, total_ms: r.total_ms });
    }
    return ids.filter((id) => enabled.has(id)).map((id) => {
      const rows = recent.get(id) ?? [];
      const u = up.get(id);
      return { monitor_id: id, state: stateOf(enabled.get(id)!, rows[0]?.status ?? null), recent: rows, runs_24h: u?.runs ?? 0, up_24h: u?.up ?? 0 };
    });
  }
}
