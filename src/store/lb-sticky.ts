/**
 * One winner per sticky (sticky_id, tier), the same rules on every database (pure; the stores read the current
 * rows, call `planSticky`, and write what it returns in the same transaction, with the keys locked).
 *
 * A `set` names what the writer believed the database held before (`prev`, see StickyEvent): the row is written
 * when it is absent, already names the writer's backend (a refresh: created_at kept, last_used only grows), or
 * still names `prev` (a move the writer decided). Otherwise another writer's choice stands and is reported back
 * as adopted. A `delete` removes the row only while it names the deleted backend (or the coalesced `prev`).
 */
import type { LbSticky, LbStickyChange } from './lb.js';

export const stickyKey = (stickyId: string, tier: string): string => `${stickyId}\u0000${tier}`;

export function changeKey(ch: LbStickyChange): string {
  return ch.type === 'set' ? stickyKey(ch.assignment.stickyId, ch.assignment.tier) : stickyKey(ch.stickyId, ch.tier);
}

/** What the database held before `ch`, as its writer believed (undefined: not known, write as given). */
function before(ch: LbStickyChange): string | null | undefined {
  if (ch.type === 'set') return ch.prev;
  return ch.prev !== undefined ? ch.prev : ch.clientId;
}

/**
 * One change in place of `older` followed by `newer` for the same key: the newer change, conditioned on what
 * the database held before the older one (the database has seen neither).
 */
export function coalesceSticky(older: LbStickyChange, newer: LbStickyChange): LbStickyChange {
  const prev = before(older);
  if (newer.type === 'set') {
    const out: LbStickyChange = { type: 'set', assignment: newer.assignment };
    if (prev !== undefined && newer.prev !== undefined) out.prev = prev;
    return out;
  }
  const out: LbStickyChange = { type: 'delete', stickyId: newer.stickyId, tier: newer.tier };
  if (newer.clientId !== undefined && prev !== undefined) {
    out.clientId = newer.clientId;
    out.prev = prev;
  }
  return out;
}

/** The batch's changes with one change per key (coalesced in order), keys sorted (the lock order). */
export function uniqueChanges(changes: readonly LbStickyChange[]): LbStickyChange[] {
  const byKey = new Map<string, LbStickyChange>();
  for (const ch of changes) {
    const k = changeKey(ch);
    const older = byKey.get(k);
    byKey.set(k, older === undefined ? ch : coalesceSticky(older, ch));
  }
  return [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
}

export interface StickyPlan {
  /** Rows to insert or overwrite as given (a missing backend's row is skipped by the store). */
  write: LbSticky[];
  /** Keys to delete. */
  remove: Array<{ stickyId: string; tier: string }>;
  /** Rows another writer holds where this batch's choice lost. */
  adopted: LbSticky[];
}

/** Decides each change against the current rows (keyed by stickyKey). */
export function planSticky(changes: readonly LbStickyChange[], current: ReadonlyMap<string, LbSticky>): StickyPlan {
  const plan: StickyPlan = { write: [], remove: [], adopted: [] };
  for (const ch of changes) {
    const row = current.get(changeKey(ch));
    if (ch.type === 'delete') {
      if (row === undefined) continue;
      if (ch.clientId === undefined || row.clientId === ch.clientId || (ch.prev != null && row.clientId === ch.prev)) {
        plan.remove.push({ stickyId: ch.stickyId, tier: ch.tier });
      }
      continue;
    }
    const a = ch.assignment;
    if (row === undefined || ch.prev === undefined) plan.write.push({ ...a });
    else if (row.clientId === a.clientId) plan.write.push({ ...a, createdAt: row.createdAt, lastUsed: Math.max(row.lastUsed, a.lastUsed) });
    else if (ch.prev !== null && row.clientId === ch.prev) plan.write.push({ ...a });
    else plan.adopted.push({ ...row });
  }
  return plan;
}
