/** PostgreSQL implementation of DashboardStore: the shared SQL (../dashboard-sql.ts) with numbered placeholders. */
import type pg from 'pg';
import { migrate } from './db.js';
import { slowestByHours } from '../dashboard-slowest.js';
import { PG_DASHBOARD_MIGRATIONS } from './migrations/dashboard.js';
import type { DashboardStore, MonitorFilter, MonitorStateRow, MonitorSummary, OverviewCounts, RecentFailure, SlowMonitor } from '../dashboard.js';
import { countSql, countsSql, ENABLED_SQL, failuresSql, listSql, POSTGRES, recentBatchSql, runsSql, stateOf, uptime24hSql, type Sql } from '../dashboard-sql.js';

/** `?` → `$n` (the shared SQL has no `?` inside string literals). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** COUNT and SUM come back as strings (bigint / numeric); the dashboard's figures fit in a double. */
const toNum = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export class PgDashboardStore implements DashboardStore {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(pool: pg.Pool): Promise<PgDashboardStore> {
    await migrate(pool, 'dashboard', PG_DASHBOARD_MIGRATIONS);
    return new PgDashboardStore(pool);
  }

  private async all<T extends pg.QueryResultRow>(q: Sql): Promise<T[]> {
    return (await this.pool.query<T>(numbered(q.text), q.params)).rows;
  }

  async counts(): Promise<OverviewCounts> {
    const r = (await this.all<Record<keyof OverviewCounts, unknown>>(countsSql(POSTGRES)))[0]!;
    return { total: toNum(r.total), up: toNum(r.up), down: toNum(r.down), paused: toNum(r.paused), pending: toNum(r.pending) };
  }

  async runsSince(since: number): Promise<{ runs: number; failures: number }> {
    const r = (await this.all<{ runs: unknown; failures: unknown }>(runsSql(since)))[0]!;
    return { runs: toNum(r.runs), failures: toNum(r.failures) };
  }

  async recentFailures(since: number, limit: number): Promise<RecentFailure[]> {
    return this.all<RecentFailure & pg.QueryResultRow>(failuresSql(since, limit));
  }

  async slowest(since: number, limit: number): Promise<SlowMonitor[]> {
    return slowestByHours(async <T>(q: Sql) => (await this.pool.query(numbered(q.text), q.params)).rows as T[], POSTGRES, since, limit);
  }

  async listMonitors(filter: MonitorFilter, page: { after?: string; limit: number }): Promise<MonitorStateRow[]> {
    const rows = await this.all<{ id: string; enabled: boolean; last_status: string | null; last_event_at: unknown }>(listSql(POSTGRES, filter, page));
    return rows.map((r) => ({ id: r.id, state: stateOf(r.enabled, r.last_status), last_event_at: r.last_event_at === null ? null : toNum(r.last_event_at) }));
  }

  async countMonitors(filter: MonitorFilter): Promise<number> {
    return toNum((await this.all<{ n: unknown }>(countSql(POSTGRES, filter)))[0]!.n);
  }

  async summaries(ids: readonly string[], opts: { bars: number; since24h: number }): Promise<MonitorSummary[]> {
    if (ids.length === 0) return [];
    const enabled = new Map((await this.all<{ id: string; enabled: boolean }>({ text: ENABLED_SQL(ids), params: [...ids] })).map((r) => [r.id, r.enabled]));
    const up = new Map((await this.all<{ monitor_id: string; runs: unknown; up: unknown }>(uptime24hSql(ids, opts.since24h))).map((r) => [r.monitor_id, r]));
    const present = ids.filter((id) => enabled.has(id));
    const recent = new Map<string, MonitorSummary['recent']>();
    for (const r of await this.all<{ monitor_id: string; status: string; event_at: unknown; total_ms: number | null }>(recentBatchSql('postgres', present, opts.bars))) {
      let list = recent.get(r.monitor_id);
      if (list === undefined) recent.set(r.monitor_id, (list = []));
      list.push({ status: r.status, event_at: toNum(r.event_at), total_ms: r.total_ms });
    }
    return present.map((id) => {
      const rows = recent.get(id) ?? [];
      const u = up.get(id);
      return { monitor_id: id, state: stateOf(enabled.get(id)!, rows[0]?.status ?? null), recent: rows, runs_24h: toNum(u?.runs), up_24h: toNum(u?.up) };
    });
  }
}
