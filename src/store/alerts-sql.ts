/**
 * The alerts store written once over a minimal SQL executor, used by both databases (./sqlite/alerts.ts,
 * ./postgres/alerts.ts). Statements use `?` placeholders (the PostgreSQL executor numbers them) and only SQL that
 * both engines accept; what differs (row locks, claiming with SKIP LOCKED) comes from the executor.
 */
import { randomId } from '../platform/ids.js';
import {
  autoIncidentTitle,
  idempotencyKey,
  type AlertsStore,
  type ChannelRecord,
  type IncidentQuery,
  type IncidentRecord,
  type IncidentStatus,
  type ManualIncidentInput,
  type MonitorAlertStatus,
  type OutboxRow,
  type OutboxStatus,
  type RegionAlertCounts,
  type RegionRunInput,
  type SharedRegionState,
  type TimelineEntry,
  type TransitionInput,
  type TransitionOutcome,
} from './alerts.js';

export type Row = Record<string, unknown>;

export interface SqlExec {
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  run(sql: string, params?: unknown[]): Promise<number>;
}

/** One statement of a transaction body: the body yields it and gets its rows (`all`) or changed-row count (`run`). */
export interface Op {
  kind: 'all' | 'run';
  sql: string;
  params: unknown[];
}
/**
 * A transaction body, written as a generator so that one body serves both engines: SQLite drives it
 * synchronously inside one better-sqlite3 transaction (nothing else can interleave on the connection),
 * PostgreSQL drives it asynchronously on one pooled connection.
 */
export type TxBody<T> = Generator<Op, T, unknown>;
const all = (sql: string, params: unknown[] = []): Op => ({ kind: 'all', sql, params });
const run = (sql: string, params: unknown[] = []): Op => ({ kind: 'run', sql, params });

export interface SqlEngine extends SqlExec {
  /** Runs `body` in one transaction (serialisable enough for a compare-and-set on one row). */
  tx<T>(body: () => TxBody<T>): Promise<T>;
  /** Appended to a SELECT that must lock the rows it reads (PostgreSQL: FOR UPDATE; SQLite: nothing, writes are serial). */
  lockSuffix: string;
  /** Appended to the claim SELECT (PostgreSQL: FOR UPDATE SKIP LOCKED). */
  claimSuffix: string;
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function channelOf(r: Row): ChannelRecord {
  return {
    id: String(r['id']),
    name: String(r['name']),
    type: r['type'] as ChannelRecord['type'],
    settings: JSON.parse(String(r['settings'])) as Record<string, unknown>,
    isDefault: num(r['is_default']) === 1,
    enabled: num(r['enabled']) === 1,
    source: r['source'] as ChannelRecord['source'],
    createdAt: num(r['created_at']),
    updatedAt: num(r['updated_at']),
  };
}

function outboxOf(r: Row): OutboxRow {
  return {
    id: String(r['id']),
    incidentId: String(r['incident_id']),
    channelId: String(r['channel_id']),
    kind: r['kind'] as OutboxRow['kind'],
    idempotencyKey: String(r['idempotency_key']),
    payload: JSON.parse(String(r['payload'])) as Record<string, unknown>,
    status: r['status'] as OutboxStatus,
    attempts: num(r['attempts']),
    nextAttemptAt: num(r['next_attempt_at']),
    lastError: (r['last_error'] as string | null) ?? null,
    createdAt: num(r['created_at']),
    deliveredAt: numOrNull(r['delivered_at']),
  };
}

function regionOf(r: Row): RegionAlertCounts {
  return { fails: num(r['fails']), oks: num(r['oks']), failing: num(r['failing']) === 1, firstFailureAt: numOrNull(r['first_failure_at']) };
}

export class SqlAlertsStore implements AlertsStore {
  constructor(
    private readonly db: SqlEngine,
    readonly sharedByReplicas: boolean,
  ) {}

  async upsertChannel(c: Omit<ChannelRecord, 'createdAt' | 'updatedAt'>, at: number): Promise<ChannelRecord> {
    await this.db.run(
      `INSERT INTO alert_channels (id, name, type, settings, is_default, enabled, source, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, settings = excluded.settings,
         is_default = excluded.is_default, enabled = excluded.enabled, source = excluded.source, updated_at = excluded.updated_at`,
      [c.id, c.name, c.type, JSON.stringify(c.settings), c.isDefault ? 1 : 0, c.enabled ? 1 : 0, c.source, at, at],
    );
    return (await this.getChannel(c.id))!;
  }

  async listChannels(): Promise<ChannelRecord[]> {
    return (await this.db.all('SELECT * FROM alert_channels ORDER BY name')).map(channelOf);
  }

  async getChannel(idOrName: string): Promise<ChannelRecord | null> {
    const rows = await this.db.all('SELECT * FROM alert_channels WHERE id = ? OR name = ? ORDER BY (id = ?) DESC LIMIT 1', [idOrName, idOrName, idOrName]);
    return rows[0] ? channelOf(rows[0]) : null;
  }

  async deleteChannel(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM alert_channels WHERE id = ?', [id])) > 0;
  }

  async putRule(monitorId: string, override: Record<string, unknown> | null, at: number): Promise<void> {
    if (override === null) await this.db.run('DELETE FROM alert_rules WHERE monitor_id = ?', [monitorId]);
    else
      await this.db.run('INSERT INTO alert_rules (monitor_id, rule, updated_at) VALUES (?, ?, ?) ON CONFLICT (monitor_id) DO UPDATE SET rule = excluded.rule, updated_at = excluded.updated_at', [
        monitorId,
        JSON.stringify(override),
        at,
      ]);
  }

  async listRules(): Promise<Map<string, Record<string, unknown>>> {
    const rows = await this.db.all('SELECT monitor_id, rule FROM alert_rules');
    return new Map(rows.map((r) => [String(r['monitor_id']), JSON.parse(String(r['rule'])) as Record<string, unknown>]));
  }

  async loadStatuses(): Promise<Map<string, { status: MonitorAlertStatus; incidentId: string | null }>> {
    const rows = await this.db.all("SELECT monitor_id, status, incident_id FROM alert_monitor_state WHERE status <> 'up'");
    return new Map(rows.map((r) => [String(r['monitor_id']), { status: r['status'] as MonitorAlertStatus, incidentId: (r['incident_id'] as string | null) ?? null }]));
  }

  recordRegionRuns(runs: readonly RegionRunInput[]): Promise<SharedRegionState[]> {
    if (runs.length === 0) return Promise.resolve([]);
    const lock = this.db.lockSuffix;
    return this.db.tx(function* () {
      const out: SharedRegionState[] = [];
      for (const r of runs) {
        if (r.steadyUp) {
          const n = (yield run(
            'UPDATE alert_region_state SET oks = oks + 1, last_at = ? WHERE monitor_id = ? AND region = ? AND fails = 0 AND failing = 0 AND oks >= ? AND last_at < ?',
            [r.at, r.monitorId, r.region, r.steadyUp.successThreshold, r.at],
          )) as number;
          if (n > 0) {
            out.push({ regions: {}, status: 'up', counted: true, steady: true });
            continue;
          }
        }
        yield run('INSERT INTO alert_region_state (monitor_id, region, fails, oks, failing, first_failure_at, last_at) VALUES (?, ?, 0, 0, 0, NULL, -1) ON CONFLICT (monitor_id, region) DO NOTHING', [r.monitorId, r.region]);
        // Every region of the monitor, locked (this run's row among them), with the stored status.
        const rows = (yield all(
          `SELECT region, fails, oks, failing, first_failure_at, last_at, (SELECT status FROM alert_monitor_state s WHERE s.monitor_id = r.monitor_id) AS status FROM alert_region_state r WHERE monitor_id = ?${lock}`,
          [r.monitorId],
        )) as Row[];
        const regions: Record<string, RegionAlertCounts> = {};
        for (const row of rows) regions[String(row['region'])] = regionOf(row);
        const cur = rows.find((row) => String(row['region']) === r.region)!;
        const counted = r.at > num(cur['last_at']);
        if (counted) {
          const next = r.step(regions[r.region]!);
          regions[r.region] = next;
          yield run('UPDATE alert_region_state SET fails = ?, oks = ?, failing = ?, first_failure_at = ?, last_at = ? WHERE monitor_id = ? AND region = ?', [
            next.fails,
            next.oks,
            next.failing ? 1 : 0,
            next.firstFailureAt,
            r.at,
            r.monitorId,
            r.region,
          ]);
        }
        out.push({ regions, status: (cur['status'] as MonitorAlertStatus | null | undefined) ?? 'up', counted, steady: false });
      }
      return out;
    });
  }

  applyTransition(t: TransitionInput): Promise<TransitionOutcome | null> {
    const lock = this.db.lockSuffix;
    return this.db.tx(function* () {
      yield run("INSERT INTO alert_monitor_state (monitor_id, status, incident_id, updated_at) VALUES (?, 'up', NULL, ?) ON CONFLICT (monitor_id) DO NOTHING", [t.monitorId, t.at]);
      const cur = ((yield all(`SELECT status, incident_id FROM alert_monitor_state WHERE monitor_id = ?${lock}`, [t.monitorId])) as Row[])[0]!;
      if (cur['status'] !== t.expected) return null;
      let incidentId = (cur['incident_id'] as string | null) ?? null;
      const event = (kind: string, status: string, message: string, at = t.at): Op =>
        run('INSERT INTO incident_events (incident_id, at, kind, status, message) VALUES (?, ?, ?, ?, ?)', [incidentId, at, kind, status, message]);
      if (t.kind === 'down' || t.kind === 'degraded') {
        if (incidentId !== null) {
          // degraded → down: the degraded incident is closed by the 'recovered' transition first; a stale id is closed here.
          yield run("UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE id = ? AND resolved_at IS NULL", [t.at, incidentId]);
        }
        incidentId = randomId('inc_', 14);
        const impact = t.kind === 'down' ? 'major' : 'minor';
        yield run(
          `INSERT INTO incidents (id, kind, title, status, impact, monitor_ids, status_page_slug, started_at, resolved_at, acknowledged_at, acknowledged_by)
           VALUES (?, 'auto', ?, 'investigating', ?, ?, NULL, ?, NULL, NULL, NULL)`,
          [incidentId, autoIncidentTitle(t.monitorName, t.kind), impact, JSON.stringify([t.monitorId]), t.firstFailureAt ?? t.at],
        );
        if (t.kind === 'down' && t.firstFailureAt !== null) yield event('first_failure', 'investigating', 'first failed run', t.firstFailureAt);
        yield event(t.kind === 'down' ? 'alert' : 'degraded', 'investigating', t.reason);
      } else if (incidentId === null) {
        // resolved / recovered / reminder without an open incident: only the status changes.
        yield run('UPDATE alert_monitor_state SET status = ?, updated_at = ? WHERE monitor_id = ?', [t.next, t.at, t.monitorId]);
        return null;
      } else if (t.kind === 'reminder') {
        yield event('reminder', 'investigating', t.reason);
      } else {
        yield run("UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE id = ? AND resolved_at IS NULL", [t.at, incidentId]);
        yield event(t.kind === 'resolved' ? 'resolved' : 'recovered', 'resolved', t.reason);
      }
      const keepIncident = t.next !== 'up' ? incidentId : null;
      yield run('UPDATE alert_monitor_state SET status = ?, incident_id = ?, updated_at = ? WHERE monitor_id = ?', [t.next, keepIncident, t.at, t.monitorId]);

      const outboxIds: string[] = [];
      for (const channelId of t.channelIds) {
        const key = idempotencyKey(incidentId, t.kind, t.reminder, channelId);
        const id = randomId('ntf_', 14);
        const payload = { ...t.details, event: t.kind, incidentId, monitorId: t.monitorId, monitorName: t.monitorName, at: t.at, reason: t.reason, idempotencyKey: key, ...(t.reminder !== undefined ? { reminder: t.reminder } : {}) };
        const n = (yield run(
          `INSERT INTO alert_outbox (id, incident_id, channel_id, kind, idempotency_key, payload, status, attempts, next_attempt_at, claimed_by, claimed_until, last_error, created_at, delivered_at)
           VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, 0, NULL, 0, NULL, ?, NULL) ON CONFLICT (idempotency_key) DO NOTHING`,
          // Due at once (0): the event time comes from a worker's clock, which may run ahead of the sender's.
          [id, incidentId, channelId, t.kind, key, JSON.stringify(payload), t.at],
        )) as number;
        if (n > 0) outboxIds.push(id);
      }
      return { incidentId, outboxIds };
    });
  }

  private async hydrate(rows: Row[]): Promise<IncidentRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => String(r['id']));
    const events = await this.db.all(`SELECT incident_id, at, kind, status, message FROM incident_events WHERE incident_id IN (${ids.map(() => '?').join(', ')}) ORDER BY at, seq`, ids);
    const byId = new Map<string, TimelineEntry[]>();
    for (const e of events) {
      const list = byId.get(String(e['incident_id'])) ?? [];
      list.push({ at: num(e['at']), kind: String(e['kind']), status: String(e['status']), message: String(e['message']) });
      byId.set(String(e['incident_id']), list);
    }
    return rows.map((r) => ({
      id: String(r['id']),
      kind: r['kind'] as IncidentRecord['kind'],
      title: String(r['title']),
      status: r['status'] as IncidentStatus,
      impact: r['impact'] as IncidentRecord['impact'],
      monitorIds: JSON.parse(String(r['monitor_ids'])) as string[],
      statusPageSlug: (r['status_page_slug'] as string | null) ?? null,
      startedAt: num(r['started_at']),
      resolvedAt: numOrNull(r['resolved_at']),
      acknowledgedAt: numOrNull(r['acknowledged_at']),
      acknowledgedBy: (r['acknowledged_by'] as string | null) ?? null,
      timeline: byId.get(String(r['id'])) ?? [],
    }));
  }

  async listIncidents(q: IncidentQuery): Promise<IncidentRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.since !== undefined) {
      where.push('(resolved_at IS NULL OR resolved_at >= ?)');
      params.push(q.since);
    }
    if (q.open) where.push('resolved_at IS NULL');
    if (q.statusPageSlug !== undefined) {
      where.push('(status_page_slug = ? OR status_page_slug IS NULL)');
      params.push(q.statusPageSlug);
    }
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
    // monitor_ids is a JSON list; filtered here rather than in SQL so both engines share the query.
    const rows = await this.db.all(`SELECT * FROM incidents${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id LIMIT ${q.monitorIds ? limit * 10 : limit}`, params);
    const wanted = q.monitorIds ? new Set(q.monitorIds) : null;
    const picked = wanted ? rows.filter((r) => (JSON.parse(String(r['monitor_ids'])) as string[]).some((m) => wanted.has(m))).slice(0, limit) : rows;
    return this.hydrate(picked);
  }

  async getIncident(id: string): Promise<IncidentRecord | null> {
    return (await this.hydrate(await this.db.all('SELECT * FROM incidents WHERE id = ?', [id])))[0] ?? null;
  }

  async acknowledge(id: string, by: string, at: number): Promise<IncidentRecord | null> {
    await this.db.tx(function* () {
      const n = (yield run('UPDATE incidents SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL', [at, by, id])) as number;
      if (n > 0) yield run("INSERT INTO incident_events (incident_id, at, kind, status, message) VALUES (?, ?, 'acknowledged', (SELECT status FROM incidents WHERE id = ?), ?)", [id, at, id, `acknowledged by ${by}`]);
    });
    return this.getIncident(id);
  }

  async createManualIncident(i: ManualIncidentInput): Promise<IncidentRecord> {
    const id = randomId('inc_', 14);
    await this.db.tx(function* () {
      yield run(
        `INSERT INTO incidents (id, kind, title, status, impact, monitor_ids, status_page_slug, started_at, resolved_at, acknowledged_at, acknowledged_by)
         VALUES (?, 'manual', ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
        [id, i.title, i.status, i.impact, JSON.stringify(i.monitorIds), i.statusPageSlug, i.at, i.status === 'resolved' ? i.at : null],
      );
      yield run("INSERT INTO incident_events (incident_id, at, kind, status, message) VALUES (?, ?, 'update', ?, ?)", [id, i.at, i.status, i.message]);
    });
    return (await this.getIncident(id))!;
  }

  async updateIncident(id: string, u: { status: IncidentStatus; message: string; at: number }): Promise<IncidentRecord | null> {
    const found = await this.db.tx(function* () {
      const n = (yield run(
        `UPDATE incidents SET status = ?, resolved_at = CASE WHEN ? = 'resolved' THEN COALESCE(resolved_at, ?) ELSE NULL END WHERE id = ?`,
        [u.status, u.status, u.at, id],
      )) as number;
      if (n === 0) return false;
      yield run("INSERT INTO incident_events (incident_id, at, kind, status, message) VALUES (?, ?, 'update', ?, ?)", [id, u.at, u.status, u.message]);
      return true;
    });
    return found ? this.getIncident(id) : null;
  }

  claimDue(owner: string, now: number, limit: number, leaseMs: number): Promise<OutboxRow[]> {
    const claim = this.db.claimSuffix;
    return this.db.tx(function* () {
      const rows = (yield all(
        `SELECT * FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= ? AND claimed_until <= ? ORDER BY created_at, id LIMIT ${Math.max(1, Math.trunc(limit))}${claim}`,
        [now, now],
      )) as Row[];
      for (const r of rows) yield run('UPDATE alert_outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?', [owner, now + leaseMs, r['id']]);
      return rows.map(outboxOf);
    });
  }

  async markDelivered(id: string, at: number, detail: string): Promise<void> {
    await this.db.tx(function* () {
      const n = (yield run("UPDATE alert_outbox SET status = 'delivered', delivered_at = ?, attempts = attempts + 1, claimed_until = 0 WHERE id = ? AND status = 'pending'", [at, id])) as number;
      if (n > 0) yield* notificationEvent(id, at, `delivered: ${detail}`);
    });
  }

  async markFailed(id: string, at: number, error: string, nextAttemptAt: number, dead: boolean): Promise<void> {
    await this.db.tx(function* () {
      const n = (yield run(
        "UPDATE alert_outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, claimed_until = 0 WHERE id = ? AND status = 'pending'",
        [dead ? 'dead' : 'pending', nextAttemptAt, error.slice(0, 1000), id],
      )) as number;
      if (n > 0) yield* notificationEvent(id, at, `${dead ? 'gave up' : 'failed, will retry'}: ${error.slice(0, 300)}`);
    });
  }

  async listOutbox(q: { incidentId?: string; status?: OutboxStatus }): Promise<OutboxRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.incidentId !== undefined) {
      where.push('incident_id = ?');
      params.push(q.incidentId);
    }
    if (q.status !== undefined) {
      where.push('status = ?');
      params.push(q.status);
    }
    return (await this.db.all(`SELECT * FROM alert_outbox${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`, params)).map(outboxOf);
  }

  deleteExpired(c: { outboxBefore: number | null; incidentsBefore: number | null }): Promise<{ outbox: number; incidents: number }> {
    return this.db.tx(function* () {
      let outbox = 0;
      let incidents = 0;
      if (c.outboxBefore !== null) {
        outbox += (yield run("DELETE FROM alert_outbox WHERE status IN ('delivered', 'dead') AND COALESCE(delivered_at, created_at) < ?", [c.outboxBefore])) as number;
      }
      if (c.incidentsBefore !== null) {
        const old = `SELECT id FROM incidents i WHERE i.resolved_at IS NOT NULL AND i.resolved_at < ?
          AND NOT EXISTS (SELECT 1 FROM alert_outbox o WHERE o.incident_id = i.id AND o.status = 'pending')`;
        outbox += (yield run(`DELETE FROM alert_outbox WHERE incident_id IN (${old})`, [c.incidentsBefore])) as number;
        yield run(`DELETE FROM incident_events WHERE incident_id IN (${old})`, [c.incidentsBefore]);
        incidents = (yield run(`DELETE FROM incidents WHERE id IN (${old})`, [c.incidentsBefore])) as number;
      }
      return { outbox, incidents };
    });
  }
}

/** The timeline entry of a notification attempt (part of markDelivered's / markFailed's transaction). */
function* notificationEvent(outboxId: string, at: number, outcome: string): TxBody<void> {
  const r = ((yield all('SELECT o.incident_id, o.kind, o.attempts, c.name AS channel FROM alert_outbox o LEFT JOIN alert_channels c ON c.id = o.channel_id WHERE o.id = ?', [outboxId])) as Row[])[0];
  if (!r) return;
  const inc = ((yield all('SELECT status FROM incidents WHERE id = ?', [r['incident_id']])) as Row[])[0];
  yield run("INSERT INTO incident_events (incident_id, at, kind, status, message) VALUES (?, ?, 'notification', ?, ?)", [
    r['incident_id'],
    at,
    String(inc?.['status'] ?? 'investigating'),
    `${String(r['kind'])} via ${String(r['channel'] ?? r['incident_id'])} (attempt ${num(r['attempts'])}) ${outcome}`,
  ]);
}
