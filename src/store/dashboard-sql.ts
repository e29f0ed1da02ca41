/**
 * The dashboard queries as SQL shared by SQLite and PostgreSQL. Placeholders are `?`; the PostgreSQL store
 * numbers them ($1, $2, …). The two dialects differ only in the boolean literal and in text ordering (PostgreSQL
 * orders ids with COLLATE "C" so that pages follow byte order as on SQLite).
 */
import type { MonitorFilter, MonitorState } from './dashboard.js';

export interface Dialect {
  true: string;
  false: string;
  collate: string;
  /**
   * How the 1h rollups are read by time range. SQLite's planner, without statistics, prefers walking the primary
   * key in monitor_id order for a GROUP BY monitor_id (a scan of the whole table), so it is told the index.
   */
  aggByTime: string;
  /** One hour's 1h rollups by p95, highest first, joined to monitors (SQLite: the index named, driving the join). */
  aggByP95: string;
}
export const SQLITE: Dialect = {
  true: '1',
  false: '0',
  collate: '',
  aggByTime: 'results_agg_1h INDEXED BY results_agg_1h_bucket',
  aggByP95: 'results_agg_1h a INDEXED BY results_agg_1h_p95 CROSS JOIN monitors m',
};
export const POSTGRES: Dialect = { true: 'true', false: 'false', collate: ' COLLATE "C"', aggByTime: 'results_agg_1h', aggByP95: 'results_agg_1h a JOIN monitors m' };

export interface Sql {
  text: string;
  params: unknown[];
}

/** The latest result of monitor m: monitor_latest (kept by a trigger on results_raw), joined as `l`. */
const LATEST_JOIN = 'LEFT JOIN monitor_latest l ON l.monitor_id = m.id';
export const USER_MONITORS = "m.deleted_at IS NULL AND m.owner NOT LIKE 'system:%'";

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Derives a monitor's state from `enabled` and its last status (the column names of stateQuery). */
export function stateOf(enabled: boolean, lastStatus: string | null): MonitorState {
  if (!enabled) return 'paused';
  if (lastStatus === null) return 'pending';
  return lastStatus === 'up' ? 'up' : 'down';
}

function stateCondition(d: Dialect, s: MonitorState): string {
  switch (s) {
    case 'paused':
      return `enabled = ${d.false}`;
    case 'pending':
      return `(enabled = ${d.true} AND last_status IS NULL)`;
    case 'up':
      return `(enabled = ${d.true} AND last_status = 'up')`;
    case 'down':
      return `(enabled = ${d.true} AND last_status IN ('down', 'expired'))`;
  }
}

/** The monitors matching a filter, with their last status, as a subquery `s` (id, enabled, last_status). */
function filtered(d: Dialect, f: MonitorFilter, withEvent: boolean): Sql {
  const where = [USER_MONITORS];
  const params: unknown[] = [];
  if (f.search !== undefined && f.search !== '') {
    where.push("(lower(m.name) LIKE ? ESCAPE '\\' OR lower(m.url) LIKE ? ESCAPE '\\')");
    const like = `%${escapeLike(f.search.toLowerCase())}%`;
    params.push(like, like);
  }
  if (f.type !== undefined && f.type !== '') {
    where.push('m.type = ?');
    params.push(f.type);
  }
  if (f.region !== undefined && f.region !== '') {
    where.push("m.regions LIKE ? ESCAPE '\\'");
    params.push(`%${escapeLike(JSON.stringify(f.region))}%`);
  }
  const cols = `m.id, m.enabled, l.status AS last_status${withEvent ? ', l.event_at AS last_event_at' : ''}`;
  let text = `SELECT ${cols} FROM monitors m ${LATEST_JOIN} WHERE ${where.join(' AND ')}`;
  const states = f.states ?? [];
  if (states.length > 0 && states.length < 4) {
    text = `SELECT * FROM (${text}) s WHERE ${states.map((s) => stateCondition(d, s)).join(' OR ')}`;
  } else {
    text = `SELECT * FROM (${text}) s`;
  }
  return { text, params };
}

export function listSql(d: Dialect, f: MonitorFilter, page: { after?: string; limit: number }): Sql {
  const inner = filtered(d, f, true);
  const params = [...inner.params];
  let text = inner.text;
  const hasWhere = / s WHERE /.test(text);
  if (page.after !== undefined) {
    text += `${hasWhere ? ' AND' : ' WHERE'} id${d.collate} > ?`;
    params.push(page.after);
  }
  text += ` ORDER BY id${d.collate} LIMIT ?`;
  params.push(page.limit);
  return { text, params };
}

export function countSql(d: Dialect, f: MonitorFilter): Sql {
  const inner = filtered(d, f, false);
  return { text: `SELECT count(*) AS n FROM (${inner.text}) c`, params: inner.params };
}

export function countsSql(d: Dialect): Sql {
  const inner = filtered(d, {}, false);
  return {
    text: `SELECT count(*) AS total,
      COALESCE(SUM(CASE WHEN ${stateCondition(d, 'up')} THEN 1 ELSE 0 END), 0) AS up,
      COALESCE(SUM(CASE WHEN ${stateCondition(d, 'down')} THEN 1 ELSE 0 END), 0) AS down,
      COALESCE(SUM(CASE WHEN ${stateCondition(d, 'paused')} THEN 1 ELSE 0 END), 0) AS paused,
      COALESCE(SUM(CASE WHEN ${stateCondition(d, 'pending')} THEN 1 ELSE 0 END), 0) AS pending
      FROM (${inner.text}) c`,
    params: inner.params,
  };
}

/**
 * Runs and failures since `since`: the per-hour totals of every monitor (rollup_hour_totals, kept by triggers),
 * less the buckets of the monitors left out (system-owned, deleted), read by primary key per such monitor
 * (CROSS JOIN keeps SQLite from driving the join from the rollups' time index, a lookup per bucket row).
 */
export function runsSql(since: number): Sql {
  return {
    text: `SELECT
      (SELECT COALESCE(SUM(count), 0) FROM rollup_hour_totals WHERE bucket_start >= ?)
        - (SELECT COALESCE(SUM(a.count), 0) FROM monitors x CROSS JOIN results_agg_1h a
           WHERE a.monitor_id = x.id AND (x.owner LIKE 'system:%' OR x.deleted_at IS NOT NULL) AND a.bucket_start >= ?) AS runs,
      (SELECT COALESCE(SUM(count - up_count), 0) FROM rollup_hour_totals WHERE bucket_start >= ?)
        - (SELECT COALESCE(SUM(a.count - a.up_count), 0) FROM monitors x CROSS JOIN results_agg_1h a
           WHERE a.monitor_id = x.id AND (x.owner LIKE 'system:%' OR x.deleted_at IS NOT NULL) AND a.bucket_start >= ?) AS failures`,
    params: [since, since, since, since],
  };
}

export function failuresSql(since: number, limit: number): Sql {
  return {
    text: `SELECT r.monitor_id, m.name AS monitor_name, r.region, r.event_at, r.status, r.http_code, r.error, r.error_class
      FROM results_raw r JOIN monitors m ON m.id = r.monitor_id
      WHERE r.status <> 'up' AND r.event_at >= ? AND ${USER_MONITORS}
      ORDER BY r.event_at DESC LIMIT ?`,
    params: [since, limit],
  };
}

export function slowestSql(d: Dialect, since: number, limit: number): Sql {
  // Aggregated over the time range first, then joined for the names (a join per bucket row costs more).
  return {
    text: `SELECT t.monitor_id, m.name AS monitor_name, t.p95_ms, t.p99_ms
      FROM (SELECT monitor_id, MAX(p95_ms) AS p95_ms, MAX(p99_ms) AS p99_ms FROM ${d.aggByTime}
            WHERE bucket_start >= ? AND p95_ms IS NOT NULL GROUP BY monitor_id) t
      JOIN monitors m ON m.id = t.monitor_id
      WHERE ${USER_MONITORS}
      ORDER BY t.p95_ms DESC, t.monitor_id LIMIT ?`,
    params: [since, limit],
  };
}

/** The hours (1h bucket starts) at or after `since` that have rollups, from the per-hour totals. */
export function hoursSinceSql(since: number): Sql {
  return { text: 'SELECT bucket_start FROM rollup_hour_totals WHERE bucket_start >= ? ORDER BY bucket_start', params: [since] };
}

/** The `n` highest-p95 rows of one hour's 1h rollups of user monitors (one row per monitor and region). */
export function topP95InHourSql(d: Dialect, hour: number, n: number): Sql {
  return {
    text: `SELECT a.monitor_id, a.p95_ms FROM ${d.aggByP95} ON m.id = a.monitor_id
      WHERE a.bucket_start = ? AND a.p95_ms IS NOT NULL AND ${USER_MONITORS}
      ORDER BY a.p95_ms DESC LIMIT ?`,
    params: [hour, n],
  };
}

/** Names and worst p99 over the range of the slowest monitors (`ids`: at most a page), by primary key. */
export function namesAndP99Sql(ids: readonly string[], since: number): Sql {
  return {
    text: `SELECT m.id AS monitor_id, m.name AS monitor_name,
        (SELECT MAX(a.p99_ms) FROM results_agg_1h a WHERE a.monitor_id = m.id AND a.bucket_start >= ? AND a.p95_ms IS NOT NULL) AS p99_ms
      FROM monitors m WHERE m.id IN (${ids.map(() => '?').join(', ')})`,
    params: [since, ...ids],
  };
}

export function uptime24hSql(ids: readonly string[], since: number): Sql {
  return {
    text: `SELECT monitor_id, SUM(count) AS runs, SUM(up_count) AS up FROM results_agg_1h
      WHERE bucket_start >= ? AND monitor_id IN (${ids.map(() => '?').join(', ')}) GROUP BY monitor_id`,
    params: [since, ...ids],
  };
}

export const RECENT_SQL = 'SELECT status, event_at, total_ms FROM results_raw WHERE monitor_id = ? ORDER BY event_at DESC LIMIT ?';

/**
 * The last `bars` results of every monitor of a page in one statement (not one per monitor): per id, the
 * newest rows by the (monitor_id, event_at) index, as (monitor_id, status, event_at, total_ms), newest first
 * within a monitor. SQLite: a correlated rowid subquery per id of json_each; PostgreSQL: a LATERAL join.
 */
export function recentBatchSql(engine: 'sqlite' | 'postgres', ids: readonly string[], bars: number): Sql {
  if (engine === 'postgres') {
    return {
      text: `SELECT ids.id AS monitor_id, r.status, r.event_at, r.total_ms
        FROM unnest(?::text[]) WITH ORDINALITY AS ids(id, ord)
        CROSS JOIN LATERAL (SELECT status, event_at, total_ms FROM results_raw WHERE monitor_id = ids.id ORDER BY event_at DESC LIMIT ?) r
        ORDER BY ids.ord, r.event_at DESC`,
      params: [[...ids], bars],
    };
  }
  return {
    text: `SELECT r.monitor_id, r.status, r.event_at, r.total_ms
      FROM json_each(?) ids CROSS JOIN results_raw r
      WHERE r.rowid IN (SELECT rowid FROM results_raw WHERE monitor_id = ids.value ORDER BY event_at DESC LIMIT ?)
      ORDER BY ids.key, r.event_at DESC`,
    params: [JSON.stringify(ids), bars],
  };
}
export const ENABLED_SQL = (ids: readonly string[]): string => `SELECT id, enabled FROM monitors WHERE id IN (${ids.map(() => '?').join(', ')})`;
