/** SQLite implementation of StatusPagesStore (component "status"; see migrations/status-pages.ts). */
import type { CountsByMonitor, MaintenanceRecord, MaintenanceSpec, PageMonitorRow, StatusPageRecord, StatusPageSpec, StatusPagesStore, SubscriberRecord } from '../status-pages.js';
import { toPage, toSubscriber, toWindow, unpackCounts, type PageRow, type SubscriberRow, type WindowRow } from '../status-rows.js';
import { migrate, type SqliteDb } from './db.js';
import { STATUS_MIGRATIONS } from './migrations/status-pages.js';

export class SqliteStatusPagesStore implements StatusPagesStore {
  constructor(private readonly db: SqliteDb) {
    migrate(db, 'status', STATUS_MIGRATIONS);
  }

  async pageMonitors(ids: readonly string[]): Promise<PageMonitorRow[]> {
    if (ids.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT m.id, m.name, m.url, m.deleted_at, l.status FROM monitors m LEFT JOIN monitor_latest l ON l.monitor_id = m.id
         WHERE m.id IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify(ids)) as { id: string; name: string; url: string; deleted_at: number | null; status: string | null }[];
    return rows.map((r) => ({ id: r.id, name: r.name, url: r.url, deleted: r.deleted_at !== null, lastStatus: r.status === 'up' || r.status === 'down' ? r.status : null }));
  }

  async rollupCounts(ids: readonly string[], resolution: '1d' | '1h', from: number, to: number): Promise<CountsByMonitor> {
    if (ids.length === 0) return new Map();
    const table = resolution === '1d' ? 'results_agg_1d' : 'results_agg_1h';
    const rows = this.db
      .prepare(
        // One entry per (region, bucket): unpackCounts sums the regions (a GROUP BY here costs a temp b-tree).
        `SELECT monitor_id, group_concat(bucket_start || ':' || count || ':' || up_count) AS packed FROM ${table}
         WHERE monitor_id IN (SELECT value FROM json_each(?)) AND bucket_start >= ? AND bucket_start < ?
         GROUP BY monitor_id`,
      )
      .all(JSON.stringify(ids), from, to) as { monitor_id: string; packed: string | null }[];
    return unpackCounts(rows);
  }

  async upsertPage(spec: StatusPageSpec, now: number): Promise<StatusPageRecord> {
    this.db
      .prepare(
        `INSERT INTO status_pages (slug, title, description, groups_json, show_targets, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(slug) DO UPDATE SET title = excluded.title, description = excluded.description,
           groups_json = excluded.groups_json, show_targets = excluded.show_targets, updated_at = excluded.updated_at`,
      )
      .run(spec.slug, spec.title, spec.description, JSON.stringify(spec.groups), spec.showTargets ? 1 : 0, now, now);
    return (await this.getPage(spec.slug))!;
  }

  async getPage(slug: string): Promise<StatusPageRecord | null> {
    const r = this.db.prepare('SELECT * FROM status_pages WHERE slug = ?').get(slug) as PageRow | undefined;
    return r ? toPage(r) : null;
  }

  async listPages(): Promise<StatusPageRecord[]> {
    return (this.db.prepare('SELECT * FROM status_pages ORDER BY slug').all() as PageRow[]).map(toPage);
  }

  async deletePage(slug: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM status_pages WHERE slug = ?').run(slug).changes > 0;
  }

  async createWindow(spec: MaintenanceSpec, meta: { id: string; now: number }): Promise<MaintenanceRecord> {
    this.db
      .prepare('INSERT INTO maintenance_windows (id, title, description, schedule_json, targets_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(meta.id, spec.title, spec.description, JSON.stringify(spec.schedule), JSON.stringify(spec.targets), meta.now, meta.now);
    return (await this.getWindow(meta.id))!;
  }

  async updateWindow(id: string, spec: MaintenanceSpec, now: number): Promise<MaintenanceRecord | null> {
    const n = this.db
      .prepare('UPDATE maintenance_windows SET title = ?, description = ?, schedule_json = ?, targets_json = ?, updated_at = ? WHERE id = ?')
      .run(spec.title, spec.description, JSON.stringify(spec.schedule), JSON.stringify(spec.targets), now, id).changes;
    return n > 0 ? this.getWindow(id) : null;
  }

  async getWindow(id: string): Promise<MaintenanceRecord | null> {
    const r = this.db.prepare('SELECT * FROM maintenance_windows WHERE id = ?').get(id) as WindowRow | undefined;
    return r ? toWindow(r) : null;
  }

  async listWindows(): Promise<MaintenanceRecord[]> {
    return (this.db.prepare('SELECT * FROM maintenance_windows ORDER BY id').all() as WindowRow[]).map(toWindow);
  }

  async deleteWindow(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM maintenance_windows WHERE id = ?').run(id).changes > 0;
  }

  async addSubscriber(s: { id: string; slug: string; email: string; token: string }, now: number): Promise<SubscriberRecord | null> {
    return this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM status_pages WHERE slug = ?').get(s.slug)) return null;
      this.db
        .prepare(
          `INSERT INTO status_subscribers (id, slug, email, email_key, token, created_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
           ON CONFLICT(slug, email_key) DO NOTHING`,
        )
        .run(s.id, s.slug, s.email, s.email.toLowerCase(), s.token, now);
      const r = this.db.prepare('SELECT * FROM status_subscribers WHERE slug = ? AND email_key = ?').get(s.slug, s.email.toLowerCase()) as SubscriberRow;
      return toSubscriber(r);
    })();
  }

  async confirmSubscriber(token: string, now: number): Promise<SubscriberRecord | null> {
    this.db.prepare('UPDATE status_subscribers SET confirmed_at = COALESCE(confirmed_at, ?) WHERE token = ?').run(now, token);
    const r = this.db.prepare('SELECT * FROM status_subscribers WHERE token = ?').get(token) as SubscriberRow | undefined;
    return r ? toSubscriber(r) : null;
  }

  async removeSubscriber(token: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM status_subscribers WHERE token = ?').run(token).changes > 0;
  }

  async listSubscribers(slug: string, opts: { confirmedOnly: boolean }): Promise<SubscriberRecord[]> {
    const sql = `SELECT * FROM status_subscribers WHERE slug = ?${opts.confirmedOnly ? ' AND confirmed_at IS NOT NULL' : ''} ORDER BY email_key`;
    return (this.db.prepare(sql).all(slug) as SubscriberRow[]).map(toSubscriber);
  }

  async claimNotice(windowId: string, occurrenceStart: number, kind: 'start' | 'end', now: number): Promise<boolean> {
    return (
      this.db
        .prepare('INSERT INTO maintenance_notices (window_id, occurrence_start, kind, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(windowId, occurrenceStart, kind, now).changes > 0
    );
  }

  async deleteNoticesBefore(before: number): Promise<number> {
    return this.db.prepare('DELETE FROM maintenance_notices WHERE sent_at < ?').run(before).changes;
  }
}
