/**
 * The slowest monitors (worst p95 over the 1h buckets from `since`) without aggregating every monitor's
 * buckets: each hour's rows are read highest p95 first (index results_agg_1h_p95) until they hold `limit`
 * monitors with a p95 strictly above the last row read. The answer is ranked on the rows read (each monitor's
 * worst p95 among them); only its ≤ `limit` monitors are then read by primary key for their names and p99.
 * Shared by the SQLite and PostgreSQL stores.
 *
 * Why the rows read suffice: a monitor M of the true answer reaches its worst p95 x in some hour h. Had M's
 * row of h not been read, x ≤ v (the last p95 read in h) while `limit` other monitors have a p95 > v in h, so
 * worse maxima than M: M would not be in the answer. So every monitor of the answer has its worst row read
 * (its figure is exact), and every other monitor's figure from the rows read is at most its true one, so it
 * cannot rank above the answer's monitors either.
 */
import type { SlowMonitor } from './dashboard.js';
import { hoursSinceSql, namesAndP99Sql, topP95InHourSql, type Dialect, type Sql } from './dashboard-sql.js';

type Query = <T>(q: Sql) => Promise<T[]>;

/** Rows read per hour at first (a monitor has a row per region); doubled while not enough. */
const FIRST_READ = 4;

type P95Row = { monitor_id: string; p95_ms: number };

/** One hour's rows, highest p95 first, read until `limit` monitors lie strictly above the last p95 read. */
async function hourRows(query: Query, d: Dialect, hour: number, limit: number): Promise<P95Row[]> {
  for (let n = Math.max(limit * FIRST_READ, 16); ; n *= 2) {
    const rows = await query<P95Row>(topP95InHourSql(d, hour, n));
    if (rows.length < n) return rows;
    const last = Number(rows[rows.length - 1]!.p95_ms);
    const above = new Set(rows.filter((r) => Number(r.p95_ms) > last).map((r) => r.monitor_id));
    if (above.size >= limit) return rows;
  }
}

export async function slowestByHours(query: Query, d: Dialect, since: number, limit: number): Promise<SlowMonitor[]> {
  if (limit <= 0) return [];
  const hours = await query<{ bucket_start: number | string }>(hoursSinceSql(since));
  const worst = new Map<string, number>();
  for (const h of hours) {
    for (const r of await hourRows(query, d, Number(h.bucket_start), limit)) {
      const v = Number(r.p95_ms);
      if (v > (worst.get(r.monitor_id) ?? -Infinity)) worst.set(r.monitor_id, v);
    }
  }
  const top = [...worst.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, limit);
  if (top.length === 0) return [];
  const info = new Map(
    (await query<{ monitor_id: string; monitor_name: string; p99_ms: number | null }>(namesAndP99Sql(top.map(([id]) => id), since))).map((r) => [r.monitor_id, r]),
  );
  return top.map(([id, p95]) => ({ monitor_id: id, monitor_name: info.get(id)?.monitor_name ?? '', p95_ms: p95, p99_ms: Number(info.get(id)?.p99_ms ?? 0) }));
}
