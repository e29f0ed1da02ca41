/**
 * Sticky assignments: (sticky_id, tier) → backend, indexed by sticky id (for affinity) and by
 * backend (to drop a backend's assignments when it turns unhealthy or goes away).
 * Mutations report what the store must persist through `emit`.
 */
import type { StickyAssignment, StickyEvent } from './types.js';

export class StickyTable {
  private readonly bySticky = new Map<string, Map<string, StickyAssignment>>();
  private readonly byClient = new Map<string, Set<StickyAssignment>>();
  private count = 0;

  constructor(private readonly emit: (e: StickyEvent) => void) {}

  get size(): number {
    return this.count;
  }

  get(stickyId: string, tier: string): StickyAssignment | undefined {
    return this.bySticky.get(stickyId)?.get(tier);
  }

  /**
   * Other tiers' assignments of the same sticky id, most recently used first (ties: tier name),
   * for affinity.
   */
  others(stickyId: string, tier: string): StickyAssignment[] {
    const m = this.bySticky.get(stickyId);
    if (m === undefined || (m.size === 1 && m.has(tier))) return [];
    const out: StickyAssignment[] = [];
    for (const a of m.values()) if (a.tier !== tier) out.push(a);
    out.sort((a, b) => b.lastUsed - a.lastUsed || (a.tier < b.tier ? -1 : a.tier > b.tier ? 1 : 0));
    return out;
  }

  /** Marks an assignment used now (emits 'set' so the store persists last_used). */
  touch(a: StickyAssignment, now: number, emit = true): void {
    a.lastUsed = now;
    if (emit) this.emit({ type: 'set', assignment: { ...a }, prev: a.clientId });
  }

  /** Creates or replaces the assignment of (stickyId, tier). */
  assign(stickyId: string, tier: string, clientId: string, now: number, emit = true): StickyAssignment {
    return this.put({ stickyId, tier, clientId, createdAt: now, lastUsed: now }, emit);
  }

  /** Inserts or replaces an assignment as given (restore path). */
  put(a: StickyAssignment, emit: boolean): StickyAssignment {
    let m = this.bySticky.get(a.stickyId);
    if (m === undefined) {
      m = new Map();
      this.bySticky.set(a.stickyId, m);
    }
    const old = m.get(a.tier);
    if (old !== undefined) this.unindexClient(old);
    else this.count++;
    const rec: StickyAssignment = { ...a };
    m.set(a.tier, rec);
    let s = this.byClient.get(rec.clientId);
    if (s === undefined) {
      s = new Set();
      this.byClient.set(rec.clientId, s);
    }
    s.add(rec);
    if (emit) this.emit({ type: 'set', assignment: { ...rec }, prev: old?.clientId ?? null });
    return rec;
  }

  delete(stickyId: string, tier: string, emit = true): boolean {
    const m = this.bySticky.get(stickyId);
    const a = m?.get(tier);
    if (m === undefined || a === undefined) return false;
    m.delete(tier);
    if (m.size === 0) this.bySticky.delete(stickyId);
    this.unindexClient(a);
    this.count--;
    if (emit) this.emit({ type: 'delete', stickyId, tier, clientId: a.clientId });
    return true;
  }

  /** Drops every assignment to `clientId`. Returns how many. */
  deleteClient(clientId: string, emit = true): number {
    const s = this.byClient.get(clientId);
    if (s === undefined) return 0;
    const list = [...s].sort(compareAssignments);
    for (const a of list) this.delete(a.stickyId, a.tier, emit);
    return list.length;
  }

  /** Drops assignments last used before `cutoff`. Returns how many. */
  prune(cutoff: number, emit = true): number {
    const old = this.list().filter((a) => a.lastUsed < cutoff);
    for (const a of old) this.delete(a.stickyId, a.tier, emit);
    return old.length;
  }

  /** Copies of all assignments, ordered by (stickyId, tier). */
  list(): StickyAssignment[] {
    const out: StickyAssignment[] = [];
    for (const m of this.bySticky.values()) for (const a of m.values()) out.push({ ...a });
    return out.sort(compareAssignments);
  }

  private unindexClient(a: StickyAssignment): void {
    const s = this.byClient.get(a.clientId);
    if (s === undefined) return;
    s.delete(a);
    if (s.size === 0) this.byClient.delete(a.clientId);
  }
}

function compareAssignments(a: StickyAssignment, b: StickyAssignment): number {
  if (a.stickyId !== b.stickyId) return a.stickyId < b.stickyId ? -1 : 1;
  return a.tier < b.tier ? -1 : a.tier > b.tier ? 1 : 0;
}
