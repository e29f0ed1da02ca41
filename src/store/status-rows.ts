/** Row ↔ record mapping of the "status" component, shared by the SQLite and PostgreSQL stores. */
import type { CountsByMonitor, MaintenanceRecord, StatusPageRecord, SubscriberRecord } from './status-pages.js';

export interface PageRow {
  slug: string;
  title: string;
  description: string;
  groups_json: string;
  show_targets: number | boolean;
  created_at: number;
  updated_at: number;
}

export interface WindowRow {
  id: string;
  title: string;
  description: string;
  schedule_json: string;
  targets_json: string;
  created_at: number;
  updated_at: number;
}

export interface SubscriberRow {
  id: string;
  slug: string;
  email: string;
  token: string;
  created_at: number;
  confirmed_at: number | null;
}

export const toPage = (r: PageRow): StatusPageRecord => ({
  slug: r.slug,
  title: r.title,
  description: r.description,
  groups: JSON.parse(r.groups_json) as StatusPageRecord['groups'],
  showTargets: r.show_targets === true || r.show_targets === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toWindow = (r: WindowRow): MaintenanceRecord => ({
  id: r.id,
  title: r.title,
  description: r.description,
  schedule: JSON.parse(r.schedule_json) as MaintenanceRecord['schedule'],
  targets: JSON.parse(r.targets_json) as MaintenanceRecord['targets'],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toSubscriber = (r: SubscriberRow): SubscriberRecord => ({
  id: r.id,
  slug: r.slug,
  email: r.email,
  token: r.token,
  createdAt: r.created_at,
  confirmedAt: r.confirmed_at,
});

/** Unpacks rollupCounts rows: `packed` is "bucket:count:up" entries joined by commas, one per region and bucket (summed here). */
export function unpackCounts(rows: readonly { monitor_id: string; packed: string | null }[]): CountsByMonitor {
  const out: CountsByMonitor = new Map();
  for (const r of rows) {
    const m = new Map<number, { count: number; up: number }>();
    if (r.packed) {
      for (const e of r.packed.split(',')) {
        const a = e.indexOf(':');
        const b = e.indexOf(':', a + 1);
        const bucket = Number(e.slice(0, a));
        const count = Number(e.slice(a + 1, b));
        const up = Number(e.slice(b + 1));
        const had = m.get(bucket);
        if (had) {
          had.count += count;
          had.up += up;
        } else m.set(bucket, { count, up });
      }
    }
    out.set(r.monitor_id, m);
  }
  return out;
}
