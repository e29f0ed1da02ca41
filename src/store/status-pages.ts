/**
 * Storage contract of status pages, maintenance windows and status-page subscribers (component "status").
 * One implementation per database (./sqlite/status-pages.ts, ./postgres/status-pages.ts), both passing the
 * scenarios in test/store/contract/status-pages.ts. Times are Unix epoch milliseconds.
 */
import type { MaintenanceSchedule } from '../monitoring/maintenance/window-math.js';

export type { MaintenanceSchedule } from '../monitoring/maintenance/window-math.js';

/** The slug rule of status pages and the public routes (/status/<slug>). */
export const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const SLUG_HINT = 'expected lower-case letters, digits and dashes (1 to 63, starting with a letter or digit)';

export interface StatusPageGroup {
  name: string;
  monitorIds: string[];
}

export interface StatusPageSpec {
  slug: string;
  title: string;
  description: string;
  groups: StatusPageGroup[];
  /** Show each monitor's target URL on the public page (off by default: nothing private is shown). */
  showTargets: boolean;
}

export interface StatusPageRecord extends StatusPageSpec {
  createdAt: number;
  updatedAt: number;
}

/** What a window covers: monitors by id, status-page groups by name, whole status pages by slug. */
export interface MaintenanceTargets {
  monitorIds: string[];
  groups: string[];
  statusPages: string[];
}

export interface MaintenanceSpec {
  title: string;
  description: string;
  schedule: MaintenanceSchedule;
  targets: MaintenanceTargets;
}

export interface MaintenanceRecord extends MaintenanceSpec {
  id: string;
  createdAt: number;
  updatedAt: number;
}

export interface SubscriberRecord {
  id: string;
  slug: string;
  email: string;
  /** Secret of the confirm and unsubscribe links. */
  token: string;
  createdAt: number;
  confirmedAt: number | null;
}

/** What a status page shows of one monitor, read in one query for the whole page. */
export interface PageMonitorRow {
  id: string;
  name: string;
  url: string;
  deleted: boolean;
  /** Status of the monitor's latest result (over regions); null without results. */
  lastStatus: 'up' | 'down' | null;
}

/** Runs and passing runs per bucket start (summed over regions), per monitor. */
export type CountsByMonitor = Map<string, Map<number, { count: number; up: number }>>;

export interface StatusPagesStore {
  /** The page's monitors with their latest status, in one query (ids not found are absent). */
  pageMonitors(ids: readonly string[]): Promise<PageMonitorRow[]>;
  /**
   * count and up_count of the 1d or 1h rollups with bucket_start in [from, to), summed over regions, for many
   * monitors at once. Read as one packed row per monitor (thousands of buckets would otherwise be thousands of
   * row objects, which is what a page of 100 monitors × 90 days spent its time on).
   */
  rollupCounts(ids: readonly string[], resolution: '1d' | '1h', from: number, to: number): Promise<CountsByMonitor>;

  /** Creates or replaces a page by slug (createdAt kept on replace). */
  upsertPage(spec: StatusPageSpec, now: number): Promise<StatusPageRecord>;
  getPage(slug: string): Promise<StatusPageRecord | null>;
  listPages(): Promise<StatusPageRecord[]>;
  /** Deletes the page and its subscribers; false when there was none. */
  deletePage(slug: string): Promise<boolean>;

  createWindow(spec: MaintenanceSpec, meta: { id: string; now: number }): Promise<MaintenanceRecord>;
  /** Replaces a window's spec; null when it does not exist. */
  updateWindow(id: string, spec: MaintenanceSpec, now: number): Promise<MaintenanceRecord | null>;
  getWindow(id: string): Promise<MaintenanceRecord | null>;
  listWindows(): Promise<MaintenanceRecord[]>;
  deleteWindow(id: string): Promise<boolean>;

  /**
   * Adds a pending subscriber, or returns the one already there for (slug, email) (case-insensitive), so a
   * repeated sign-up re-sends the same link instead of creating duplicates. Null when the page does not exist.
   */
  addSubscriber(s: { id: string; slug: string; email: string; token: string }, now: number): Promise<SubscriberRecord | null>;
  /** Confirms the subscriber holding `token` (idempotent); null for an unknown token. */
  confirmSubscriber(token: string, now: number): Promise<SubscriberRecord | null>;
  /** Removes the subscriber holding `token`; false for an unknown token. */
  removeSubscriber(token: string): Promise<boolean>;
  listSubscribers(slug: string, opts: { confirmedOnly: boolean }): Promise<SubscriberRecord[]>;

  /**
   * Claims the right to send one maintenance notice (window, occurrence start, 'start' | 'end'): true for the
   * first caller only, so a notice goes out once even when two replicas (or a restart) look at the same moment.
   */
  claimNotice(windowId: string, occurrenceStart: number, kind: 'start' | 'end', now: number): Promise<boolean>;
  /** Retention of the notice ledger: deletes claims sent before `before`; returns how many. */
  deleteNoticesBefore(before: number): Promise<number>;
}
