import type {
  LbClient,
  LbSticky,
  LbStats,
  LbStore,
  LbWriteBatch,
  LbWriteResult,
} from '../lb.js';
import { planSticky, stickyKey, uniqueChanges } from '../lb-sticky.js';
import { migrate, type SqliteDb } from './db.js';
import { toClient, toStats, type ClientRow, type StatsRow } from '../lb-rows.js';
import { LB_MIGRATIONS } from './migrations/lb.js';

interface StickyRow {
  sticky_id: string;
  tier: string;
  client_id: string;
  created_at: number;
  last_used: number;
}

const toSticky = (r: StickyRow): LbSticky => ({ stickyId: r.sticky_id, tier: r.tier, clientId: r.client_id, createdAt: r.created_at, lastUsed: r.last_used });

/**
 * SQLite implementation of LbStore (better-sqlite3; the handle is shared with the other components' stores).
 * Runs the "lb" migrations on construction.
 */
export class SqliteLbStore implements LbStore {
  private readonly stmts;

  constructor(private readonly db: SqliteDb) {
    migrate(db, 'lb', LB_MIGRATIONS);
    this.stmts = {
      upsertClient: db.prepare(`
        INSERT INTO clients (client_id, hostname, public_ip, local_ip, latitude, longitude, country, city,
          total_cpu, total_memory, total_storage, total_gpus, gpu_models, endpoint, endpoints_json, created_at, last_seen)
        VALUES (@client_id, @hostname, @public_ip, @local_ip, @latitude, @longitude, @country, @city,
          @total_cpu, @total_memory, @total_storage, @total_gpus, @gpu_models, @endpoint, @endpoints_json, @created_at, @last_seen)
        ON CONFLICT(client_id) DO UPDATE SET
          hostname = excluded.hostname, public_ip = excluded.public_ip, local_ip = excluded.local_ip,
          latitude = excluded.latitude, longitude = excluded.longitude, country = excluded.country, city = excluded.city,
          total_cpu = excluded.total_cpu, total_memory = excluded.total_memory, total_storage = excluded.total_storage,
          total_gpus = excluded.total_gpus, gpu_models = excluded.gpu_models, endpoint = excluded.endpoint,
          endpoints_json = excluded.endpoints_json, last_seen = excluded.last_seen`),
      deleteClient: db.prepare('DELETE FROM clients WHERE client_id = ?'),
      insertStats: db.prepare(`
        INSERT INTO stats (client_id, timestamp, cpu_cores, cpu_usage_json, memory_total, memory_used, memory_avail,
          disk_total, disk_used, disk_avail, gpu_stats_json)
        SELECT @client_id, @timestamp, @cpu_cores, @cpu_usage_json, @memory_total, @memory_used, @memory_avail,
          @disk_total, @disk_used, @disk_avail, @gpu_stats_json
        WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = @client_id)`),
      touch: db.prepare('UPDATE clients SET last_seen = MAX(last_seen, ?) WHERE client_id = ?'),
      touchLocation: db.prepare(
        'UPDATE clients SET last_seen = MAX(last_seen, ?), latitude = ?, longitude = ? WHERE client_id = ?',
      ),
      setSticky: db.prepare(`
        INSERT INTO sticky_assignments (sticky_id, tier, client_id, created_at, last_used)
        SELECT @sticky_id, @tier, @client_id, @created_at, @last_used
        WHERE EXISTS (SELECT 1 FROM clients WHERE client_id = @client_id)
        ON CONFLICT(sticky_id, tier) DO UPDATE SET
          client_id = excluded.client_id, created_at = excluded.created_at, last_used = excluded.last_used`),
      deleteSticky: db.prepare('DELETE FROM sticky_assignments WHERE sticky_id = ? AND tier = ?'),
      getSticky: db.prepare('SELECT * FROM sticky_assignments WHERE sticky_id = ? AND tier = ?'),
      deleteStatsBefore: db.prepare(
        'DELETE FROM stats WHERE id IN (SELECT id FROM stats WHERE timestamp < ? ORDER BY timestamp LIMIT ?)',
      ),
      listClients: db.prepare('SELECT * FROM clients ORDER BY client_id'),
      latestStats: db.prepare(`
        SELECT s.* FROM clients c
        JOIN stats s ON s.id = (
          SELECT id FROM stats WHERE client_id = c.client_id ORDER BY timestamp DESC, id DESC LIMIT 1
        )
        ORDER BY c.client_id`),
      listSticky: db.prepare('SELECT * FROM sticky_assignments ORDER BY sticky_id, tier'),
      countStats: db.prepare('SELECT COUNT(*) AS n FROM stats'),
      countStatsOf: db.prepare('SELECT COUNT(*) AS n FROM stats WHERE client_id = ?'),
    };
  }

  async upsertClient(c: LbClient): Promise<void> {
    const row: ClientRow = {
      client_id: c.clientId,
      hostname: c.hostname,
      public_ip: c.publicIp,
      local_ip: c.localIp,
      latitude: c.lat,
      longitude: c.lon,
      country: c.country,
      city: c.city,
      total_cpu: c.totalCpu,
      total_memory: c.totalMemoryGb,
      total_storage: c.totalStorageGb,
      total_gpus: c.totalGpus,
      gpu_models: JSON.stringify(c.gpuModels),
      endpoint: c.endpoint,
      endpoints_json: JSON.stringify(c.endpoints),
      created_at: c.createdAt,
      last_seen: c.lastSeen,
    };
    // An acknowledged registration must survive power loss, not only a process crash: sync the WAL on this
    // commit (synchronous=FULL), then return to NORMAL for the batched write-behind traffic.
    this.db.pragma('synchronous = FULL');
    try {
      this.stmts.upsertClient.run(row);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  async deleteClients(clientIds: readonly string[]): Promise<number> {
    const n = this.db.transaction((ids: readonly string[]) => {
      let deleted = 0;
      for (const id of ids) deleted += this.stmts.deleteClient.run(id).changes;
      return deleted;
    })(clientIds);
    return n;
  }

  async writeBatch(batch: LbWriteBatch): Promise<LbWriteResult> {
    const s = this.stmts;
    return this.db.transaction((): LbWriteResult => {
      for (const st of batch.stats) {
        s.insertStats.run({
          client_id: st.clientId,
          timestamp: st.timestamp,
          cpu_cores: st.cpuUsage.length,
          cpu_usage_json: JSON.stringify(st.cpuUsage),
          memory_total: st.memoryTotalGb,
          memory_used: st.memoryUsedGb,
          memory_avail: st.memoryAvailGb,
          disk_total: st.diskTotalGb,
          disk_used: st.diskUsedGb,
          disk_avail: st.diskAvailGb,
          gpu_stats_json: JSON.stringify(st.gpus),
        });
      }
      for (const t of batch.touches) {
        if (t.location) s.touchLocation.run(t.lastSeen, t.location.lat, t.location.lon, t.clientId);
        else s.touch.run(t.lastSeen, t.clientId);
      }
      // One writer on SQLite, but the same rules as on PostgreSQL (store/lb-sticky.ts).
      const changes = uniqueChanges(batch.sticky);
      const current = new Map<string, LbSticky>();
      for (const ch of changes) {
        const k = ch.type === 'set' ? ch.assignment : ch;
        const row = s.getSticky.get(k.stickyId, k.tier) as StickyRow | undefined;
        if (row) current.set(stickyKey(row.sticky_id, row.tier), toSticky(row));
      }
      const plan = planSticky(changes, current);
      for (const k of plan.remove) s.deleteSticky.run(k.stickyId, k.tier);
      for (const a of plan.write) {
        s.setSticky.run({ sticky_id: a.stickyId, tier: a.tier, client_id: a.clientId, created_at: a.createdAt, last_used: a.lastUsed });
      }
      return { adopted: plan.adopted };
    })();
  }

  async deleteStatsBefore(cutoffMs: number, limit: number): Promise<number> {
    return this.stmts.deleteStatsBefore.run(cutoffMs, Math.max(1, Math.trunc(limit))).changes;
  }

  async listClients(): Promise<LbClient[]> {
    return (this.stmts.listClients.all() as ClientRow[]).map(toClient);
  }

  async latestStats(): Promise<LbStats[]> {
    return (this.stmts.latestStats.all() as StatsRow[]).map(toStats);
  }

  async listSticky(): Promise<LbSticky[]> {
    return (this.stmts.listSticky.all() as StickyRow[]).map(toSticky);
  }

  async countStats(clientId?: string): Promise<number> {
    const row = (clientId === undefined ? this.stmts.countStats.get() : this.stmts.countStatsOf.get(clientId)) as {
      n: number;
    };
    return row.n;
  }
}
