/**
 * Results on PostgreSQL: day partitions of results_raw, idempotent ingest, rollups and retention.
 *
 * - Partitions: results_raw_YYYYMMDD holds [day, day + 1 d) of event_at (UTC). The leader creates them ahead
 *   (`ensurePartitionsAhead`); ingest creates a missing one on demand (a late or early result), under an
 *   advisory lock so that replicas never race on the DDL.
 * - Ingest: one statement per batch whatever its size (its own implicit transaction): complete the jobs held by
 *   the sending workers, insert their results (ON CONFLICT (run_id, event_at) DO NOTHING) together with their
 *   rollup queue rows (and, by trigger, monitor_latest); then, only when some item was not stored, one lookup to
 *   tell a duplicate from a lost lease.
 * - Rollups: the leader deletes a batch from rollup_queue and folds it into the 1m/1h/1d buckets with the pure
 *   bucketing of monitoring/domain/ (the same mergeable sketch as SQLite), in one transaction.
 * - Retention drops whole partitions that end before the cutoff and hold nothing still queued for rollup.
 */
import type pg from 'pg';
import { RESOLUTIONS } from '../../monitoring/domain/rollup-math.js';
import { foldBucket, groupIntoBuckets, type StoredBucket } from '../../monitoring/domain/rollup-buckets.js';
import type { IngestOutcome, Resolution, ResultInput, ResultRecord, RollupCount, RollupRecord, UptimeTotal } from '../monitoring.js';
import { tx, type Queryable } from './db.js';
import { completeHeldCtes } from './leasing.js';

const DAY_MS = 86_400_000;
const PARTITION_LOCK = 0x76616e74_70617274n; // "vantpart"

/** The columns of a ResultRecord, with the PostgreSQL array type each is sent as. */
const RESULT_COLUMNS = [
  ['run_id', 'text'], ['event_at', 'int8'], ['monitor_id', 'text'], ['region', 'text'], ['worker_id', 'text'], ['status', 'text'],
  ['http_code', 'int4'], ['dns_ms', 'float8'], ['connect_ms', 'float8'], ['tls_ms', 'float8'], ['ttfb_ms', 'float8'],
  ['download_ms', 'float8'], ['total_ms', 'float8'], ['size_bytes', 'int8'], ['error', 'text'], ['error_class', 'text'],
  ['assertions', 'text'], ['details', 'text'], ['started_at', 'int8'], ['finished_at', 'int8'], ['ingested_at', 'int8'],
] as const;
type ResultColumn = (typeof RESULT_COLUMNS)[number][0];
const COLS = RESULT_COLUMNS.map(([c]) => c).join(', ');

/** The columns of a ResultInput (what a worker sends), in RESULT_COLUMNS order. */
const INPUT_COLUMNS = RESULT_COLUMNS.filter(([c]) => !['monitor_id', 'region', 'worker_id', 'ingested_at'].includes(c)) as ReadonlyArray<
  readonly [keyof ResultInput, string]
>;

/**
 * A whole ingest batch: $1 the senders' worker ids, then the INPUT_COLUMNS arrays, then now. Returns the 1-based
 * position of every item stored (the first item of each run whose job the sender held).
 */
const INGEST_SQL = `
WITH items AS (
  SELECT * FROM unnest($1::text[], ${INPUT_COLUMNS.map(([, t], i) => `$${i + 2}::${t}[]`).join(', ')})
    WITH ORDINALITY AS i(worker_id, ${INPUT_COLUMNS.map(([c]) => c).join(', ')}, ord)
),
${completeHeldCtes('items', `$${INPUT_COLUMNS.length + 2}::int8`)},
firsts AS (
  SELECT DISTINCT ON (i.run_id) i.*, d.monitor_id, d.region FROM items i JOIN done d ON d.run_id = i.run_id AND d.worker_id = i.worker_id
   ORDER BY i.run_id, i.ord
),
ins AS (
  INSERT INTO results_raw (${COLS})
  SELECT ${RESULT_COLUMNS.map(([c]) => (c === 'ingested_at' ? `$${INPUT_COLUMNS.length + 2}::int8` : c)).join(', ')} FROM firsts
  ON CONFLICT (run_id, event_at) DO NOTHING
  RETURNING monitor_id, region, event_at, status, total_ms
),
queued AS (
  INSERT INTO rollup_queue (monitor_id, region, event_at, status, total_ms) SELECT * FROM ins
)
SELECT ord::int AS ord FROM firsts`;

const INSERT_RESULTS = `
WITH ins AS (
  INSERT INTO results_raw (${COLS})
  SELECT * FROM unnest(${RESULT_COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})
  ON CONFLICT (run_id, event_at) DO NOTHING
  RETURNING monitor_id, region, event_at, status, total_ms
)
INSERT INTO rollup_queue (monitor_id, region, event_at, status, total_ms) SELECT * FROM ins`;

export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

export function partitionName(day: number): string {
  const d = new Date(day * DAY_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return `results_raw_${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
}

export class PgResults {
  /** Days whose partition this process knows exists. */
  private readonly known = new Set<number>();

  constructor(private readonly pool: pg.Pool) {}

  /** Days whose partition this process is creating right now (concurrent batches wait on one creation). */
  private readonly creating = new Map<number, Promise<void>>();

  /** Creates the partitions of `days` that do not exist yet (idempotent; safe from every replica at once). */
  async ensurePartitions(days: Iterable<number>): Promise<void> {
    const missing = [...new Set(days)].filter((d) => !this.known.has(d));
    if (missing.length === 0) return;
    const waits = missing.flatMap((d) => this.creating.get(d) ?? []);
    const mine = missing.filter((d) => !this.creating.has(d));
    if (mine.length > 0) {
      const created = this.createPartitions(mine);
      for (const d of mine) this.creating.set(d, created);
      try {
        await created;
      } finally {
        for (const d of mine) this.creating.delete(d);
      }
    }
    await Promise.all(waits);
  }

  private async createPartitions(missing: readonly number[]): Promise<void> {
    await tx(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK.toString()]);
      for (const day of missing) {
        await c.query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF results_raw FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`,
        );
      }
    });
    for (const d of missing) this.known.add(d);
  }

  /** The leader's maintenance: partitions for today and the next `daysAhead` days. */
  async ensurePartitionsAhead(now: number, daysAhead: number): Promise<void> {
    const today = dayOf(now);
    await this.ensurePartitions(Array.from({ length: daysAhead + 1 }, (_, i) => today + i));
  }

  /** Inserts results (and their rollup queue rows) in the caller's transaction; a missing partition is created first. */
  async insert(c: Queryable, rows: readonly ResultRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await this.ensurePartitions(rows.map((r) => dayOf(r.event_at)));
    // monitor_latest is upserted by a statement trigger in monitor order (migration dashboard v5), whatever the
    // order of the rows here.
    const params = RESULT_COLUMNS.map(([col]) => rows.map((r) => (r as unknown as Record<ResultColumn, unknown>)[col] ?? null));
    await c.query(INSERT_RESULTS, params);
  }

  async ingest(items: ReadonlyArray<{ workerId: string; result: ResultInput }>, now: number): Promise<IngestOutcome[]> {
    if (items.length === 0) return [];
    try {
      return await this.ingestOnce(items, now);
    } catch (err) {
      // 23514: no partition for the row. Another replica's retention dropped a partition this process still
      // believed in; forget what it knows and try once more (creating the partition again).
      if ((err as { code?: string }).code !== '23514') throw err;
      this.known.clear();
      return this.ingestOnce(items, now);
    }
  }

  /**
   * One statement, run outside an explicit transaction (PostgreSQL commits it as it completes): complete the
   * jobs the senders hold, insert the first result of each completed run with its rollup queue row, and (the
   * statement trigger) each monitor's latest row. Being one implicit transaction, its row locks, monitor_latest's
   * included, are released the moment it ends instead of one client round trip later at COMMIT: concurrent
   * batches that share monitors queue behind each other for that much less. The results it answers are committed
   * when the answer arrives (ack after commit).
   */
  private async ingestOnce(items: ReadonlyArray<{ workerId: string; result: ResultInput }>, now: number): Promise<IngestOutcome[]> {
    // Partitions first (DDL must not run inside the batch's statement).
    await this.ensurePartitions(items.map((i) => dayOf(i.result.event_at)));
    const params: unknown[] = [items.map((i) => i.workerId), ...INPUT_COLUMNS.map(([col]) => items.map((i) => i.result[col] ?? null)), now];
    const r = await this.pool.query<{ ord: number }>(INGEST_SQL, params);
    const out: Array<IngestOutcome | null> = items.map(() => null);
    for (const { ord } of r.rows) out[ord - 1] = 'stored';
    const rest = items.map((it, i) => ({ it, i })).filter((x) => out[x.i] === null);
    if (rest.length > 0) {
      // Not stored by this batch: a repeat of a result this worker already delivered, or a lease it lost.
      const q = await this.pool.query<{ run_id: string; event_at: number; worker_id: string | null }>(
        `SELECT r.run_id, r.event_at, r.worker_id FROM results_raw r
           JOIN unnest($1::text[], $2::int8[]) AS k(run_id, event_at) ON r.run_id = k.run_id AND r.event_at = k.event_at`,
        [rest.map((x) => x.it.result.run_id), rest.map((x) => x.it.result.event_at)],
      );
      const by = new Map(q.rows.map((x) => [`${x.run_id}\u0000${x.event_at}`, x.worker_id]));
      for (const { it, i } of rest) {
        const w = by.get(`${it.result.run_id}\u0000${it.result.event_at}`);
        out[i] = w !== undefined && w === it.workerId ? 'duplicate' : 'lease_lost';
      }
    }
    return out as IngestOutcome[];
  }

  async list(opts: { monitorId: string; from?: number; to?: number; region?: string; limit: number }): Promise<ResultRecord[]> {
    const where = ['monitor_id = $1'];
    const params: unknown[] = [opts.monitorId];
    if (opts.from) where.push(`event_at >= $${params.push(opts.from)}`);
    if (opts.to) where.push(`event_at < $${params.push(opts.to)}`);
    if (opts.region) where.push(`region = $${params.push(opts.region)}`);
    const r = await this.pool.query<ResultRecord>(
      `SELECT ${COLS} FROM results_raw WHERE ${where.join(' AND ')} ORDER BY event_at DESC LIMIT $${params.push(opts.limit)}`,
      params,
    );
    return r.rows;
  }

  /** Folds up to `maxRows` queued results into the buckets; returns how many it folded. */
  async rollupPending(maxRows: number): Promise<number> {
    return tx(this.pool, async (c) => {
      const q = await c.query<{ monitor_id: string; region: string; event_at: number; status: string; total_ms: number | null }>(
        `DELETE FROM rollup_queue WHERE id IN (SELECT id FROM rollup_queue ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING monitor_id, region, event_at, status, total_ms`,
        [Math.max(1, Math.trunc(maxRows))],
      );
      if (q.rows.length === 0) return 0;
      for (const res of RESOLUTIONS) {
        const groups = groupIntoBuckets(q.rows, res);
        if (groups.length === 0) continue;
        const existing = await c.query<StoredBucket>(
          `SELECT a.* FROM results_agg_${res} a
             JOIN unnest($1::text[], $2::text[], $3::int8[]) AS k(monitor_id, region, bucket_start)
               ON a.monitor_id = k.monitor_id AND a.region = k.region AND a.bucket_start = k.bucket_start`,
          [groups.map((g) => g.monitor_id), groups.map((g) => g.region), groups.map((g) => g.bucket_start)],
        );
        const by = new Map(existing.rows.map((b) => [`${b.monitor_id}\u0000${b.region}\u0000${b.bucket_start}`, b]));
        const folded = groups.map((g) => foldBucket(g, by.get(`${g.monitor_id}\u0000${g.region}\u0000${g.bucket_start}`)));
        const cols = ['monitor_id', 'region', 'bucket_start', 'count', 'up_count', 'error_count', 'lat_count', 'lat_sum', 'lat_min', 'lat_max', 'p50_ms', 'p95_ms', 'p99_ms', 'sketch'] as const;
        const types = ['text', 'text', 'int8', 'int4', 'int4', 'int4', 'int4', 'float8', 'float8', 'float8', 'float8', 'float8', 'float8', 'bytea'];
        await c.query(
          `INSERT INTO results_agg_${res} (${cols.join(', ')})
           SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
           ON CONFLICT (monitor_id, region, bucket_start) DO UPDATE SET
             ${cols.slice(3).map((col) => `${col} = excluded.${col}`).join(', ')}`,
          cols.map((col) => folded.map((b) => b[col])),
        );
      }
      return q.rows.length;
    });
  }

  async queryRollups(opts: { monitorId: string; resolution: Resolution; from: number; to: number; region?: string }): Promise<RollupRecord[]> {
    if (!RESOLUTIONS.includes(opts.resolution)) throw new Error(`unknown resolution: ${String(opts.resolution)}`);
    const params: unknown[] = [opts.monitorId, opts.from, opts.to];
    const region = opts.region ? `AND region = $${params.push(opts.region)}` : '';
    const r = await this.pool.query<RollupRecord>(
      `SELECT monitor_id, region, bucket_start, count, up_count, error_count, lat_count, lat_sum, lat_min, lat_max, sketch
         FROM results_agg_${opts.resolution} WHERE monitor_id = $1 AND bucket_start >= $2 AND bucket_start < $3 ${region}
        ORDER BY bucket_start, region COLLATE "C"`,
      params,
    );
    return r.rows;
  }

  async queryRollupCounts(opts: { monitorIds: readonly string[]; resolution: Resolution; from: number; to: number }): Promise<RollupCount[]> {
    if (!RESOLUTIONS.includes(opts.resolution)) throw new Error(`unknown resolution: ${String(opts.resolution)}`);
    if (opts.monitorIds.length === 0) return [];
    const r = await this.pool.query<RollupCount>(
      `SELECT monitor_id, bucket_start, SUM(count)::int AS count, SUM(up_count)::int AS up_count FROM results_agg_${opts.resolution}
        WHERE monitor_id = ANY($1::text[]) AND bucket_start >= $2 AND bucket_start < $3
        GROUP BY monitor_id, bucket_start ORDER BY monitor_id COLLATE "C", bucket_start`,
      [opts.monitorIds, opts.from, opts.to],
    );
    return r.rows;
  }

  async queryUptimeTotals(opts: { monitorIds: readonly string[]; resolution: Resolution; from: number; to: number }): Promise<UptimeTotal[]> {
    if (!RESOLUTIONS.includes(opts.resolution)) throw new Error(`unknown resolution: ${String(opts.resolution)}`);
    if (opts.monitorIds.length === 0) return [];
    const r = await this.pool.query<UptimeTotal>(
      `SELECT monitor_id, SUM(count)::int8 AS count, SUM(up_count)::int8 AS up_count FROM results_agg_${opts.resolution}
        WHERE monitor_id = ANY($1::text[]) AND bucket_start >= $2 AND bucket_start < $3
        GROUP BY monitor_id ORDER BY monitor_id COLLATE "C"`,
      [opts.monitorIds, opts.from, opts.to],
    );
    return r.rows;
  }

  /**
   * Drops every day partition that ends at or before `before` and holds no result still queued for rollup;
   * returns how many rows went with them.
   */
  async dropPartitionsBefore(before: number): Promise<number> {
    const parts = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'results_raw'::regclass ORDER BY c.relname`,
    );
    let rows = 0;
    for (const { name } of parts.rows) {
      const m = /^results_raw_(\d{4})(\d{2})(\d{2})$/.exec(name);
      if (!m) continue;
      const day = dayOf(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
      const end = (day + 1) * DAY_MS;
      if (end > before) continue;
      rows += await tx(this.pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK.toString()]);
        const queued = await c.query('SELECT 1 FROM rollup_queue WHERE event_at >= $1 AND event_at < $2 LIMIT 1', [day * DAY_MS, end]);
        if (queued.rows.length > 0) return 0;
        const n = await c.query<{ n: number }>(`SELECT count(*) AS n FROM ${name}`);
        await c.query(`DROP TABLE ${name}`);
        return n.rows[0]!.n;
      });
      this.known.delete(day);
    }
    return rows;
  }
}
