import type { Logger } from 'pino';
import type { LbClientTouch, LbStats, LbSticky, LbStickyChange, LbStore } from '../store/lb.js';

import { coalesceSticky } from '../store/lb-sticky.js';
import { backgroundTimers, type Timers } from '../platform/timers.js';

export interface WriteBehindOptions {
  store: Pick<LbStore, 'writeBatch'>;
  /** Longest time a queued change waits before it is written. */
  flushIntervalMs?: number;
  /** A flush starts at once when this many stats rows are queued. */
  maxBatch?: number;
  /** Upper bound on queued stats rows while the database is failing; the oldest are dropped beyond it. */
  maxQueuedStats?: number;
  timers?: Timers;
  logger?: Logger;
  /**
   * Called with the assignments another replica holds where this one's choice lost (LbWriteResult.adopted),
   * before the flush that found them resolves: the engine adopts them, so the caller that waited for the
   * commit already sees the winner.
   */
  onAdopt?: (winners: LbSticky[]) => void;
}

/** A change that can lose to another replica's: a new assignment, or a move to another backend. */
function isClaim(ch: LbStickyChange): boolean {
  return ch.type === 'set' && ch.prev !== undefined && ch.prev !== ch.assignment.clientId;
}

/**
 * Queues stats rows, client liveness updates and sticky-assignment changes and writes them to the store in
 * batched transactions, off the request path. Liveness updates and sticky changes are coalesced per key
 * (the newest wins); stats rows are history and are all kept. A failed batch is put back in front of newer
 * changes and retried on the next flush.
 */
export class WriteBehind {
  private stats: LbStats[] = [];
  private touches = new Map<string, LbClientTouch>();
  private sticky = new Map<string, LbStickyChange>();
  private timer: unknown = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private dropped = 0;
  /** A new sticky assignment is queued that callers must not acknowledge before it is committed. */
  private newSticky = false;
  private groupCommit: Promise<void> | null = null;
  /** The sticky changes of the batch being written. */
  private flightSticky: Map<string, LbStickyChange> | null = null;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxQueuedStats: number;
  private readonly timers: Timers;

  constructor(private readonly opts: WriteBehindOptions) {
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxQueuedStats = opts.maxQueuedStats ?? 100_000;
    this.timers = opts.timers ?? backgroundTimers;
  }

  addStats(row: LbStats): void {
    this.stats.push(row);
    if (this.stats.length > this.maxQueuedStats) {
      this.stats.splice(0, this.stats.length - this.maxQueuedStats);
      this.dropped += 1;
    }
    this.schedule(this.stats.length >= this.maxBatch);
  }

  touch(t: LbClientTouch): void {
    const prev = this.touches.get(t.clientId);
    // Keep a location carried by an earlier, still unwritten report when the newer one has none.
    this.touches.set(t.clientId, prev?.location && !t.location ? { ...t, location: prev.location } : t);
    this.schedule(false);
  }

  stickyChange(ch: LbStickyChange): void {
    const key = ch.type === 'set' ? `${ch.assignment.stickyId}\u0000${ch.assignment.tier}` : `${ch.stickyId}\u0000${ch.tier}`;
    const older = this.sticky.get(key);
    this.sticky.delete(key); // re-insert so the map keeps the order of the latest change
    this.sticky.set(key, older === undefined ? ch : coalesceSticky(older, ch));
    // A fresh (sticky_id, tier) → backend pair: its first answer must not be acknowledged before it is durable.
    if (ch.type === 'set' && ch.assignment.createdAt === ch.assignment.lastUsed) this.newSticky = true;
    this.schedule(false);
  }

  /**
   * Group commit for new sticky assignments: resolves once every new assignment queued so far is written,
   * sharing one transaction among all callers of the same event-loop turn; null when there is nothing to wait
   * for (re-used assignments only refresh last_used, which stays write-behind). Stats and touches queued by
   * then ride along in the same transaction.
   */
  commitNewSticky(): Promise<void> | null {
    if (!this.newSticky) return this.groupCommit;
    if (this.groupCommit === null) {
      this.groupCommit = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          this.newSticky = false;
          this.groupCommit = null;
          this.flush().then(resolve, reject);
        });
      });
    }
    return this.groupCommit;
  }

  /**
   * Waits for the database's answer on this (sticky_id, tier) when this replica's assignment of it is a claim
   * or move not yet confirmed (queued, or in the batch being written): another replica may have chosen at the
   * same time, and only one choice wins (see store/lb-sticky.ts). Resolves once that batch is committed and any
   * winner adopted (onAdopt); a queued claim is written in a group commit shared by every caller of the same
   * event-loop turn. Null when the assignment is confirmed (no database round trip on a known sticky id).
   */
  commitSticky(stickyId: string, tier: string): Promise<void> | null {
    const key = `${stickyId}\u0000${tier}`;
    const queued = this.sticky.get(key);
    if (queued !== undefined && isClaim(queued)) {
      this.newSticky = true;
      return this.commitNewSticky();
    }
    const inFlight = this.flightSticky?.get(key);
    if (inFlight !== undefined && isClaim(inFlight) && this.flushing !== null) return this.flushing;
    return null;
  }

  /** Number of queued changes not yet written. */
  pending(): number {
    return this.stats.length + this.touches.size + this.sticky.size;
  }

  /** Stats rows dropped because the queue overflowed while writes were failing. */
  droppedStats(): number {
    return this.dropped;
  }

  /** Writes everything queued so far. Resolves once written (rejects if the store fails; the batch stays queued). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.pending() === 0) return;
    this.clearTimer();
    const stats = this.stats;
    const touches = this.touches;
    const sticky = this.sticky;
    this.stats = [];
    this.touches = new Map();
    this.sticky = new Map();
    this.flightSticky = sticky;
    const run = (async () => {
      try {
        const r = await this.opts.store.writeBatch({ stats, touches: [...touches.values()], sticky: [...sticky.values()] });
        if (r && r.adopted.length > 0) this.opts.onAdopt?.(r.adopted);
      } catch (err) {
        this.requeue(stats, touches, sticky);
        throw err;
      }
    })();
    this.flushing = run;
    try {
      await run;
    } finally {
      this.flushing = null;
      this.flightSticky = null;
    }
  }

  /** Stops the timer and writes what is queued. Later changes are still accepted and written by `flush()`. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    await this.flush();
  }

  private requeue(stats: LbStats[], touches: Map<string, LbClientTouch>, sticky: Map<string, LbStickyChange>): void {
    this.stats = stats.concat(this.stats);
    if (this.stats.length > this.maxQueuedStats) {
      this.dropped += this.stats.length - this.maxQueuedStats;
      this.stats.splice(0, this.stats.length - this.maxQueuedStats);
    }
    for (const [k, v] of touches) if (!this.touches.has(k)) this.touches.set(k, v);
    const merged = new Map(sticky);
    for (const [k, v] of this.sticky) {
      const older = merged.get(k);
      merged.delete(k);
      merged.set(k, older === undefined ? v : coalesceSticky(older, v));
    }
    this.sticky = merged;
    this.schedule(false);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private schedule(now: boolean): void {
    if (this.closed) return;
    if (now) {
      this.clearTimer();
      this.timer = this.timers.setTimeout(() => this.timedFlush(), 0);
      return;
    }
    if (this.timer === null) this.timer = this.timers.setTimeout(() => this.timedFlush(), this.flushIntervalMs);
  }

  private timedFlush(): void {
    this.timer = null;
    this.flush().catch((err: unknown) => {
      this.opts.logger?.error({ err, queued: this.pending() }, 'write-behind flush failed; will retry');
    });
  }
}
