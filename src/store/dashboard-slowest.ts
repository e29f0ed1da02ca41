/**
 * The slowest monitors (worst p95 over the 1h buckets from `since`) without aggregating every monitor's
 * buckets: each hour's rows are read highest p95 first (index results_agg_1h_p95) until they hold `limit`
 * monitors with a p95 strictly above the last row read, then only those candidates are aggregated exactly
 * (MAX p95 and p99 over the range, by primary key). Shared by the SQLite and PostgreSQL stores.
 *
 * Why the candidates suffice: a monitor M of the answer reaches its worst p95 x in some hour h. Had M's row
 * of h not been read, x ≤ v (the last p95 read in h) while `limit` other monitors have a p95 > v in h, so
 * worse maxima than M: M would not be in the answer.
 */
import type { SlowMonitor } from './dashboard.js';
import { hoursSinceSql, slowestOfSql, topP95InHourSql, type Dialect, type Sql } from './dashboard-sql.js';

type Query = <T>(q: Sql) => Promise<T[]>;

/** Rows read per hour at first (a monitor has a row per region); doubled while not enough. */
const FIRST_READ = 4;

/** The candidates of one hour: monitor ids, read until `limit` of them lie strictly above the last p95 read. */
async function hourCandidates(query: Query, d: Dialect, hour: number, limit: number): Promise<string[]> {
  for (let n = Math.max(limit * FIRST_READ, 16); ; n *= 2) {
    const rows = await query<{ monitor_id: string; p95_ms: number }>(topP95InHourSql(d, hour, n));
    if (rows.length < n) return [...new Set(rows.map((r) => r.monitor_id))];
    const last = rows[rows.length - 1]!.p95_ms;
    const above = new Set(rows.filter((r) => r.p95_ms > last).map((r) => r.monitor_id));
    if (above.size >= limit) return [...new Set(rows.map((r) => r.monitor_id))];
  }
}

export async function slowestByHours(query: Query, d: Dialect, since: number, limit: number): Promise<SlowMonitor[]> {
  if (limit <= 0) return [];
  const hours = await query<{ bucket_start: number | string }>(hoursSinceSql(since));
  const candidates = new Set<string>();
  for (const h of hours) for (const id of await hourCandidates(query, d, Number(h.bucket_start), limit)) candidates.add(id);
  if (candidates.size === 0) return [];
  return query<SlowMonitor>(slowestOfSql([...candidates], since, limit));
}
