/** PostgreSQL implementation of StatusPagesStore (component "status"; see migrations/status-pages.ts). */
import type pg from 'pg';
import type { CountsByMonitor, MaintenanceRecord, MaintenanceSpec, PageMonitorRow, StatusPageRecord, StatusPageSpec, StatusPagesStore, SubscriberRecord } from '../status-pages.js';
import { toPage, toSubscriber, toWindow, unpackCounts, type PageRow, type SubscriberRow, type WindowRow } from '../status-rows.js';
import { migrate, tx } from './db.js';
import { PG_STATUS_MIGRATIONS } from './migrations/status-pages.js';

export class PgStatusPagesStore implements StatusPagesStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Runs the "status" migrations (once across replicas) and returns the store. */
  static async open(pool: pg.Pool): Promise<PgStatusPagesStore> {
    await migrate(pool, 'status', PG_STATUS_MIGRATIONS);
    return new PgStatusPagesStore(pool);
  }

  async pageMonitors(ids: readonly string[]): Promise<PageMonitorRow[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string; name: string; url: string; deleted_at: string | null; status: string | null }>(
      'SELECT m.id, m.name, m.url, m.deleted_at, l.status FROM monitors m LEFT JOIN monitor_latest l ON l.monitor_id = m.id WHERE m.id = ANY($1::text[])',
      [ids],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, url: r.url, deleted: r.deleted_at !== null, lastStatus: r.status === 'up' || r.status === 'down' ? r.status : null }));
  }

  async rollupCounts(ids: readonly string[], resolution: '1d' | '1h', from: number, to: number): Promise<CountsByMonitor> {
    if (ids.length === 0) return new Map();
    const table = resolution === '1d' ? 'results_agg_1d' : 'results_agg_1h';
    const { rows } = await this.pool.query<{ monitor_id: string; packed: string | null }>(
      // One entry per (region, bucket): unpackCounts sums the regions.
      `SELECT monitor_id, string_agg(bucket_start::text || ':' || count::text || ':' || up_count::text, ',') AS packed FROM ${table}
       WHERE monitor_id = ANY($1::text[]) AND bucket_start >= $2 AND bucket_start < $3
       GROUP BY monitor_id`,
      [ids, from, to],
    );
    return unpackCounts(rows);
  }

  async upsertPage(spec: StatusPageSpec, now: number): Promise<StatusPageRecord> {
    const { rows } = await this.pool.query<PageRow>(
      `INSERT INTO status_pages (slug, title, description, groups_json, show_targets, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6)
       ON CONFLICT (slug) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description,
         groups_json = EXCLUDED.groups_json, show_targets = EXCLUDED.show_targets, updated_at = EXCLUDED.updated_at
       RETURNING *`,
      [spec.slug, spec.title, spec.description, JSON.stringify(spec.groups), spec.showTargets, now],
    );
    return toPage(rows[0]!);
  }

  async getPage(slug: string): Promise<StatusPageRecord | null> {
    const { rows } = await this.pool.query<PageRow>('SELECT * FROM status_pages WHERE slug = $1', [slug]);
    return rows[0] ? toPage(rows[0]) : null;
  }

  async listPages(): Promise<StatusPageRecord[]> {
    return (await this.pool.query<PageRow>('SELECT * FROM status_pages ORDER BY slug COLLATE "C"')).rows.map(toPage);
  }

  async deletePage(slug: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM status_pages WHERE slug = $1', [slug])).rowCount ?? 0) > 0;
  }

  async createWindow(spec: MaintenanceSpec, meta: { id: string; now: number }): Promise<MaintenanceRecord> {
    const { rows } = await this.pool.query<WindowRow>(
      'INSERT INTO maintenance_windows (id, title, description, schedule_json, targets_json, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *',
      [meta.id, spec.title, spec.description, JSON.stringify(spec.schedule), JSON.stringify(spec.targets), meta.now],
    );
    return toWindow(rows[0]!);
  }

  async updateWindow(id: string, spec: MaintenanceSpec, now: number): Promise<MaintenanceRecord | null> {
    const { rows } = await this.pool.query<WindowRow>(
      'UPDATE maintenance_windows SET title = $2, description = $3, schedule_json = $4, targets_json = $5, updated_at = $6 WHERE id = $1 RETURNING *',
      [id, spec.title, spec.description, JSON.stringify(spec.schedule), JSON.stringify(spec.targets), now],
    );
    return rows[0] ? toWindow(rows[0]) : null;
  }

  async getWindow(id: string): Promise<MaintenanceRecord | null> {
    const { rows } = await this.pool.query<WindowRow>('SELECT * FROM maintenance_windows WHERE id = $1', [id]);
    return rows[0] ? toWindow(rows[0]) : null;
  }

  async listWindows(): Promise<MaintenanceRecord[]> {
    return (await this.pool.query<WindowRow>('SELECT * FROM maintenance_windows ORDER BY id COLLATE "C"')).rows.map(toWindow);
  }

  async deleteWindow(id: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM maintenance_windows WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async addSubscriber(s: { id: string; slug: string; email: string; token: string }, now: number): Promise<SubscriberRecord | null> {
    return tx(this.pool, async (c) => {
      const page = await c.query('SELECT 1 FROM status_pages WHERE slug = $1 FOR SHARE', [s.slug]);
      if (page.rowCount === 0) return null;
      await c.query(
        `INSERT INTO status_subscribers (id, slug, email, email_key, token, created_at, confirmed_at) VALUES ($1, $2, $3, $4, $5, $6, NULL)
         ON CONFLICT (slug, email_key) DO NOTHING`,
        [s.id, s.slug, s.email, s.email.toLowerCase(), s.token, now],
      );
      const { rows } = await c.query<SubscriberRow>('SELECT * FROM status_subscribers WHERE slug = $1 AND email_key = $2', [s.slug, s.email.toLowerCase()]);
      return toSubscriber(rows[0]!);
    });
  }

  async confirmSubscriber(token: string, now: number): Promise<SubscriberRecord | null> {
    const { rows } = await this.pool.query<SubscriberRow>(
      'UPDATE status_subscribers SET confirmed_at = COALESCE(confirmed_at, $2) WHERE token = $1 RETURNING *',
      [token, now],
    );
    return rows[0] ? toSubscriber(rows[0]) : null;
  }

  async removeSubscriber(token: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM status_subscribers WHERE token = $1', [token])).rowCount ?? 0) > 0;
  }

  async listSubscribers(slug: string, opts: { confirmedOnly: boolean }): Promise<SubscriberRecord[]> {
    const sql = `SELECT * FROM status_subscribers WHERE slug = $1${opts.confirmedOnly ? ' AND confirmed_at IS NOT NULL' : ''} ORDER BY email_key COLLATE "C"`;
    return (await this.pool.query<SubscriberRow>(sql, [slug])).rows.map(toSubscriber);
  }

  async claimNotice(windowId: string, occurrenceStart: number, kind: 'start' | 'end', now: number): Promise<boolean> {
    const r = await this.pool.query(
      'INSERT INTO maintenance_notices (window_id, occurrence_start, kind, sent_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [windowId, occurrenceStart, kind, now],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async deleteNoticesBefore(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM maintenance_notices WHERE sent_at < $1', [before])).rowCount ?? 0;
  }
}
