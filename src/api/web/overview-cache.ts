/**
 * A short shared cache of the overview (DashboardService.GetOverview and the live stream's `overview` event
 * compute the same figures): an answer younger than `ttlMs` by the injected clock is reused, and callers that
 * arrive while it is being computed share that computation. With many dashboards open, the figures are
 * computed at most once per `ttlMs` per `limit`, whatever the number of tabs and streams.
 */
import { overview, type DashboardServiceDeps } from './dashboard.js';

export type Overview = Awaited<ReturnType<typeof overview>>;

/** How long an overview is reused (the live stream sends one every 5 s; pages show seconds-old figures anyway). */
export const OVERVIEW_CACHE_MS = 2_000;

export interface OverviewCache {
  /** The overview with at most `limit` recent failures and slowest monitors. */
  get(limit: number): Promise<Overview>;
}

interface Entry {
  at: number;
  value: Promise<Overview>;
}

export function createOverviewCache(d: Pick<DashboardServiceDeps, 'dashboard' | 'now'>, ttlMs = OVERVIEW_CACHE_MS): OverviewCache {
  const entries = new Map<number, Entry>();
  return {
    get(limit) {
      const now = d.now();
      const hit = entries.get(limit);
      // A clock that went back (or a stale entry) recomputes.
      if (hit !== undefined && now >= hit.at && now - hit.at < ttlMs) return hit.value;
      const value = overview(d, limit);
      const entry: Entry = { at: now, value };
      entries.set(limit, entry);
      // A failed computation is not kept: the next caller tries again.
      value.catch(() => {
        if (entries.get(limit) === entry) entries.delete(limit);
      });
      return value;
    },
  };
}
