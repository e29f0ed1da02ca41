/** PostgreSQL implementation of LbStore (the "lb" component's tables; see migrations/lb.ts). */
import type pg from 'pg';
import type { LbClient, LbRemoteChange, LbRttSample, LbSticky, LbStats, LbStickyChange, LbStore, LbWriteBatch, LbWriteResult } from '../lb.js';
import { planSticky, stickyKey, uniqueChanges } from '../lb-sticky.js';
import { migrate, tx, type Queryable } from './db.js';
import { toClient, toStats, type ClientRow, type StatsRow } from '../lb-rows.js';
import { LB_CHANNEL, notify, type PgNotifier } from './notify.js';
import { PG_LB_MIGRATIONS } from './migrations/lb.js';

const CLIENT_COLUMNS = [
  'client_id', 'hostname', 'public_ip', 'local_ip', 'latitude', 'longitude', 'country', 'city', 'total_cpu', 'total_memory',
  'total_storage', 'total_gpus', 'gpu_models', 'endpoint', 'endpoints_json', 'created_at', 'last_seen',
] as const;

/** What one LB notification names (read back by the receivers); at most NOTIFY_IDS ids per notification. */
interface LbNotice {
  origin: string;
  clients?: string[];
  stats?: string[];
  sticky?: Array<[string, string]>;
  /** Backends deleted (purged). */
  removed?: string[];
  /** Every reservation was dropped (purge-pending). */
  clearReservations?: boolean;
  /** Probe round trips [region, client id, ms]. */
  rtt?: Array<[string, string, number]>;
}
const NOTIFY_IDS = 100;

interface StickyRow {
  sticky_id: string;
  tier: string;
  client_id: string;
  created_at: number;
  last_used: number;
}
const toSticky = (x: StickyRow): LbSticky => ({ stickyId: x.sticky_id, tier: x.tier, clientId: x.client_id, createdAt: x.created_at, lastUsed: x.last_used });
const key = stickyKey;

export class PgLbStore implements LbStore {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly notifier: PgNotifier | null,
  ) {}

  /** Runs the "lb" migrations (once across replicas) and returns the store. */
  static async open(pool: pg.Pool, notifier?: PgNotifier): Promise<PgLbStore> {
    await migrate(pool, 'lb', PG_LB_MIGRATIONS);
    return new PgLbStore(pool, notifier ?? null);
  }

  /** Announces changed rows to the other replicas, in chunks that fit NOTIFY's 8 000-byte payload. */
  private async announce(c: Queryable, what: { clients?: string[]; stats?: string[]; sticky?: Array<[string, string]>; removed?: string[] }): Promise<void> {
    const origin = this.notifier?.origin ?? '';
    for (const field of ['clients', 'stats', 'sticky', 'removed'] as const) {
      const ids = [...new Set((what[field] ?? []).map((x) => JSON.stringify(x)))].map((x) => JSON.parse(x) as string & [string, string]);
      for (let i = 0; i < ids.length; i += NOTIFY_IDS) await notify(c, LB_CHANNEL, { origin, [field]: ids.slice(i, i + NOTIFY_IDS) });
    }
  }

  subscribe(fn: (change: LbRemoteChange) => void): () => void {
    const notifier = this.notifier;
    if (!notifier) return () => undefined;
    // Reads back what a notification names; changes are applied in arrival order.
    let chain = Promise.resolve();
    const enqueue = (work: () => Promise<LbRemoteChange | null>) => {
      chain = chain.then(async () => {
        const ch = await work().catch(() => null);
        if (ch) fn(ch);
      });
    };
    const offs = [
      notifier.on(LB_CHANNEL, (p) => {
        const n = p as unknown as LbNotice;
        // Sticky notices are applied by the writer too: the database row is the one winner every replica adopts.
        if (n.origin === notifier.origin && !n.sticky) return;
        enqueue(() => this.readChange(n));
      }),
      notifier.onReconnect(() => enqueue(() => this.readAll())),
    ];
    return () => offs.forEach((f) => f());
  }

  private async readChange(n: LbNotice): Promise<LbRemoteChange> {
    const out: LbRemoteChange = { clients: [], stats: [], sticky: [], removedSticky: [], removedClients: n.removed ?? [], full: false };
    if (n.clearReservations === true) out.clearReservations = true;
    if (n.rtt?.length) out.rtt = n.rtt.map(([region, clientId, rttMs]) => ({ region, clientId, rttMs }));
    const ids = [...new Set([...(n.clients ?? []), ...(n.stats ?? [])])];
    if (ids.length > 0) {
      out.clients = (await this.pool.query<ClientRow>('SELECT * FROM clients WHERE client_id = ANY($1::text[]) ORDER BY client_id COLLATE "C"', [ids])).rows.map(toClient);
    }
    if (n.stats?.length) {
      out.stats = (
        await this.pool.query<StatsRow>(
          `SELECT DISTINCT ON (client_id COLLATE "C") * FROM stats WHERE client_id = ANY($1::text[]) ORDER BY client_id COLLATE "C", timestamp DESC, id DESC`,
          [n.stats],
        )
      ).rows.map(toStats);
    }
    if (n.sticky?.length) {
      const r = await this.pool.query<{ sticky_id: string; tier: string; client_id: string; created_at: number; last_used: number }>(
        `SELECT s.* FROM sticky_assignments s JOIN unnest($1::text[], $2::text[]) AS k(sticky_id, tier) ON s.sticky_id = k.sticky_id AND s.tier = k.tier`,
        [n.sticky.map((x) => x[0]), n.sticky.map((x) => x[1])],
      );
      out.sticky = r.rows.map((x) => ({ stickyId: x.sticky_id, tier: x.tier, clientId: x.client_id, createdAt: x.created_at, lastUsed: x.last_used }));
      const present = new Set(out.sticky.map((a) => key(a.stickyId, a.tier)));
      out.removedSticky = n.sticky.filter(([s, t]) => !present.has(key(s, t))).map(([stickyId, tier]) => ({ stickyId, tier }));
    }
    return out;
  }

  private async readAll(): Promise<LbRemoteChange> {
    return { clients: await this.listClients(), stats: await this.latestStats(), sticky: await this.listSticky(), removedSticky: [], removedClients: [], full: true };
  }

  async upsertClient(c: LbClient): Promise<void> {
    const values = [
      c.clientId, c.hostname, c.publicIp, c.localIp, c.lat, c.lon, c.country, c.city, c.totalCpu, c.totalMemoryGb, c.totalStorageGb,
      c.totalGpus, JSON.stringify(c.gpuModels), c.endpoint, JSON.stringify(c.endpoints), c.createdAt, c.lastSeen,
    ];
    const updates = CLIENT_COLUMNS.filter((col) => col !== 'client_id' && col !== 'created_at').map((col) => `${col} = excluded.${col}`);
    await tx(this.pool, async (q) => {
      await q.query(
        `INSERT INTO clients (${CLIENT_COLUMNS.join(', ')}) VALUES (${CLIENT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
         ON CONFLICT (client_id) DO UPDATE SET ${updates.join(', ')}`,
        values,
      );
      await this.announce(q, { clients: [c.clientId] });
    });
  }

  async deleteClients(clientIds: readonly string[]): Promise<number> {
    if (clientIds.length === 0) return 0;
    return tx(this.pool, async (c) => {
      const r = await c.query('DELETE FROM clients WHERE client_id = ANY($1::text[])', [clientIds]);
      // announced even when this replica found nothing to delete: another one may still route on them
      await this.announce(c, { removed: [...clientIds] });
      return r.rowCount ?? 0;
    });
  }

  async announceRtt(samples: readonly LbRttSample[]): Promise<void> {
    const origin = this.notifier?.origin ?? '';
    // about 60 bytes a sample: 100 per notification stays far below NOTIFY's 8 000-byte payload
    for (let i = 0; i < samples.length; i += NOTIFY_IDS) {
      const rtt = samples.slice(i, i + NOTIFY_IDS).map((x): [string, string, number] => [x.region, x.clientId, Math.round(x.rttMs * 1000) / 1000]);
      await notify(this.pool, LB_CHANNEL, { origin, rtt } satisfies LbNotice);
    }
  }

  async announceClearReservations(): Promise<void> {
    await notify(this.pool, LB_CHANNEL, { origin: this.notifier?.origin ?? '', clearReservations: true } satisfies LbNotice);
  }

  async writeBatch(batch: LbWriteBatch): Promise<LbWriteResult> {
    if (batch.stats.length + batch.touches.length + batch.sticky.length === 0) return { adopted: [] };
    return tx(this.pool, async (c) => {
      if (batch.stats.length > 0) {
        const s = batch.stats;
        await c.query(
          `INSERT INTO stats (client_id, timestamp, cpu_cores, cpu_usage_json, memory_total, memory_used, memory_avail,
                              disk_total, disk_used, disk_avail, gpu_stats_json)
           SELECT u.client_id, u.timestamp, u.cpu_cores, u.cpu_usage_json, u.memory_total, u.memory_used, u.memory_avail,
                  u.disk_total, u.disk_used, u.disk_avail, u.gpu_stats_json
             FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::float8[], $6::float8[], $7::float8[],
                                  $8::float8[], $9::float8[], $10::float8[], $11::text[]) WITH ORDINALITY
                    AS u(client_id, timestamp, cpu_cores, cpu_usage_json, memory_total, memory_used, memory_avail,
                         disk_total, disk_used, disk_avail, gpu_stats_json, ord)
            WHERE EXISTS (SELECT 1 FROM clients c WHERE c.client_id = u.client_id)
            ORDER BY u.ord`,
          [
            s.map((x) => x.clientId),
            s.map((x) => x.timestamp),
            s.map((x) => x.cpuUsage.length),
            s.map((x) => JSON.stringify(x.cpuUsage)),
            s.map((x) => x.memoryTotalGb),
            s.map((x) => x.memoryUsedGb),
            s.map((x) => x.memoryAvailGb),
            s.map((x) => x.diskTotalGb),
            s.map((x) => x.diskUsedGb),
            s.map((x) => x.diskAvailGb),
            s.map((x) => JSON.stringify(x.gpus)),
          ],
        );
      }
      for (const t of batch.touches) {
        if (t.location) {
          await c.query('UPDATE clients SET last_seen = GREATEST(last_seen, $1), latitude = $2, longitude = $3 WHERE client_id = $4', [
            t.lastSeen,
            t.location.lat,
            t.location.lon,
            t.clientId,
          ]);
        } else {
          await c.query('UPDATE clients SET last_seen = GREATEST(last_seen, $1) WHERE client_id = $2', [t.lastSeen, t.clientId]);
        }
      }
      const sticky = batch.sticky.length > 0 ? await this.writeSticky(c, batch.sticky) : { adopted: [], changed: [] };
      await this.announce(c, {
        stats: batch.stats.map((x) => x.clientId),
        clients: batch.touches.filter((t) => t.location).map((t) => t.clientId),
        sticky: sticky.changed,
      });
      return { adopted: sticky.adopted };
    });
  }

  /**
   * The sticky part of a batch (see lb-sticky.ts): takes a transaction-level advisory lock per (sticky_id,
   * tier) in one sorted order, so that replicas writing the same keys queue instead of deadlocking and each
   * decides against the row the previous one committed; then reads the rows, plans, and writes. Returns the
   * rows adopted (another replica's choice stands) and the keys whose row changed (announced).
   */
  private async writeSticky(c: pg.PoolClient, changes: readonly LbStickyChange[]): Promise<{ adopted: LbSticky[]; changed: Array<[string, string]> }> {
    const list = uniqueChanges(changes);
    const ids = list.map((ch) => (ch.type === 'set' ? ch.assignment.stickyId : ch.stickyId));
    const tiers = list.map((ch) => (ch.type === 'set' ? ch.assignment.tier : ch.tier));
    await c.query(
      `SELECT count(pg_advisory_xact_lock(h1, h2)) FROM (
         SELECT DISTINCT hashtext(k.s) AS h1, hashtext(k.t) AS h2 FROM unnest($1::text[], $2::text[]) AS k(s, t) ORDER BY 1, 2 OFFSET 0
       ) AS q`,
      [ids, tiers],
    );
    const rows = (
      await c.query<StickyRow>(
        `SELECT s.* FROM sticky_assignments s JOIN unnest($1::text[], $2::text[]) AS k(sticky_id, tier) ON s.sticky_id = k.sticky_id AND s.tier = k.tier`,
        [ids, tiers],
      )
    ).rows.map(toSticky);
    const plan = planSticky(list, new Map(rows.map((r) => [stickyKey(r.stickyId, r.tier), r])));
    const changed: Array<[string, string]> = [];
    if (plan.remove.length > 0) {
      const r = await c.query<{ sticky_id: string; tier: string }>(
        `DELETE FROM sticky_assignments s USING unnest($1::text[], $2::text[]) AS k(sticky_id, tier)
          WHERE s.sticky_id = k.sticky_id AND s.tier = k.tier RETURNING s.sticky_id, s.tier`,
        [plan.remove.map((x) => x.stickyId), plan.remove.map((x) => x.tier)],
      );
      for (const x of r.rows) changed.push([x.sticky_id, x.tier]);
    }
    if (plan.write.length > 0) {
      const w = plan.write;
      const before = new Map(rows.map((r) => [stickyKey(r.stickyId, r.tier), r.clientId]));
      const r = await c.query<{ sticky_id: string; tier: string; client_id: string }>(
        `INSERT INTO sticky_assignments (sticky_id, tier, client_id, created_at, last_used)
         SELECT u.sticky_id, u.tier, u.client_id, u.created_at, u.last_used
           FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS u(sticky_id, tier, client_id, created_at, last_used)
          WHERE EXISTS (SELECT 1 FROM clients c WHERE c.client_id = u.client_id)
         ON CONFLICT (sticky_id, tier) DO UPDATE SET
           client_id = excluded.client_id, created_at = excluded.created_at, last_used = excluded.last_used
         RETURNING sticky_id, tier, client_id`,
        [w.map((x) => x.stickyId), w.map((x) => x.tier), w.map((x) => x.clientId), w.map((x) => x.createdAt), w.map((x) => x.lastUsed)],
      );
      // a refresh (same backend, last_used only) is nothing the other replicas need to hear about
      for (const x of r.rows) if (before.get(stickyKey(x.sticky_id, x.tier)) !== x.client_id) changed.push([x.sticky_id, x.tier]);
    }
    return { adopted: plan.adopted, changed };
  }

  async deleteStatsBefore(cutoffMs: number, limit: number): Promise<number> {
    const r = await this.pool.query(
      'DELETE FROM stats WHERE id IN (SELECT id FROM stats WHERE timestamp < $1 ORDER BY timestamp LIMIT $2)',
      [cutoffMs, Math.max(1, Math.trunc(limit))],
    );
    return r.rowCount ?? 0;
  }

  async listClients(): Promise<LbClient[]> {
    const r = await this.pool.query<ClientRow>('SELECT * FROM clients ORDER BY client_id COLLATE "C"');
    return r.rows.map(toClient);
  }

  async latestStats(): Promise<LbStats[]> {
    const r = await this.pool.query<StatsRow>(
      `SELECT DISTINCT ON (s.client_id COLLATE "C") s.* FROM stats s JOIN clients c ON c.client_id = s.client_id
        ORDER BY s.client_id COLLATE "C", s.timestamp DESC, s.id DESC`,
    );
    return r.rows.map(toStats);
  }

  async listSticky(): Promise<LbSticky[]> {
    const r = await this.pool.query<{ sticky_id: string; tier: string; client_id: string; created_at: number; last_used: number }>(
      'SELECT * FROM sticky_assignments ORDER BY sticky_id COLLATE "C", tier COLLATE "C"',
    );
    return r.rows.map((x) => ({ stickyId: x.sticky_id, tier: x.tier, clientId: x.client_id, createdAt: x.created_at, lastUsed: x.last_used }));
  }

  async countStats(clientId?: string): Promise<number> {
    const r =
      clientId === undefined
        ? await this.pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM stats')
        : await this.pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM stats WHERE client_id = $1', [clientId]);
    return r.rows[0]!.n;
  }
}
