/**
 * Leader election on PostgreSQL: `pg_try_advisory_lock` held on one dedicated connection, never a pooled one
 * (a pooled connection could carry the unlock, or the lock itself, to another session).
 *
 * - The lock lives as long as that session: when the connection is lost (server restart, pg_terminate_backend,
 *   a network cut noticed by the check below) this replica stops leading at once, in the client's error/end
 *   event, before any reconnection.
 * - Every `checkMs` a follower tries the lock, and a leader checks it still holds it (a query with a timeout on
 *   the dedicated connection), so a replica that is cut off notices within checkMs + queryTimeoutMs.
 * - A replica that has just lost leadership waits `rejoinMs` before it tries the lock again, so that a healthy
 *   follower takes over instead of the replica whose connection just failed.
 * - `confirm()` fences a leader action: it asks the server whether this session holds the lock right now. The
 *   leader-only loops call it before each pass, so a replica that lost the lock a moment ago does not run one
 *   more pass beside the new leader.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { LeaderElector } from '../leader.js';
import { backgroundTimers, type Timers } from '../../platform/timers.js';
import { clientConfig } from './db.js';

/** The advisory lock key of the leader (advisory locks are per database, so one key serves every deployment). */
export const LEADER_LOCK = 0x76616e74_6c656164n; // "vantlead"

export interface PgLeaderOptions {
  url: string;
  logger?: Logger;
  /** How often a follower retries the lock and a leader checks it (default 1 000 ms). */
  checkMs?: number;
  /** Limit of each check query on the dedicated connection (default 2 000 ms). */
  queryTimeoutMs?: number;
  /** How long a replica that lost leadership leaves the lock to the others (default 3 × checkMs). */
  rejoinMs?: number;
  timers?: Timers;
  now?: () => number;
  /** Called on every change of leadership. */
  onChange?: (leading: boolean) => void;
}

export class PgLeader implements LeaderElector {
  private client: pg.Client | null = null;
  private leading = false;
  private started = false;
  private timer: unknown = null;
  private checking: Promise<void> | null = null;
  private readonly timers: Timers;
  private readonly checkMs: number;
  private readonly now: () => number;
  /** Until when this replica leaves the lock to the others (after losing it). */
  private holdOffUntil = 0;

  constructor(private readonly opts: PgLeaderOptions) {
    this.timers = opts.timers ?? backgroundTimers;
    this.checkMs = opts.checkMs ?? 1_000;
    this.now = opts.now ?? Date.now;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Tries to lead now and keeps trying every checkMs; resolves after the first attempt (even when it failed). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.check();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    await this.checking;
    const c = this.client;
    this.client = null;
    if (c) {
      if (this.leading) await c.query('SELECT pg_advisory_unlock($1)', [LEADER_LOCK.toString()]).catch(() => undefined);
      await c.end().catch(() => undefined);
    }
    this.setLeading(false);
  }

  /** Whether this session holds the lock at this moment (false, and leadership dropped, when the check fails). */
  async confirm(): Promise<boolean> {
    if (!this.leading || !this.client) return false;
    try {
      const r = await this.client.query<{ held: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                          AND ((classid::bigint << 32) | objid::bigint) = $1::bigint) AS held`,
        [LEADER_LOCK.toString()],
      );
      if (!r.rows[0]?.held) this.setLeading(false);
    } catch (err) {
      this.lost(err);
    }
    return this.leading;
  }

  private schedule(): void {
    if (!this.started) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      void this.check().finally(() => this.schedule());
    }, this.checkMs);
  }

  private check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    try {
      if (!this.client) await this.connect();
      if (this.leading) {
        await this.confirm();
        return;
      }
      if (this.now() < this.holdOffUntil) return;
      const r = await this.client!.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEADER_LOCK.toString()]);
      if (r.rows[0]?.ok && this.started) this.setLeading(true);
    } catch (err) {
      this.lost(err);
    }
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({
      ...clientConfig(this.opts.url, 'vantage-leader'),
      query_timeout: this.opts.queryTimeoutMs ?? 2_000,
      keepAlive: true,
    });
    const drop = (err?: unknown) => {
      if (this.client === c) this.lost(err ?? new Error('leader connection ended'));
    };
    c.on('error', drop);
    c.on('end', () => drop());
    await c.connect();
    this.client = c;
  }

  /** The dedicated connection is gone or failed: stop leading now; the next check reconnects. */
  private lost(err: unknown): void {
    const c = this.client;
    this.client = null;
    if (this.leading) {
      this.opts.logger?.warn({ err }, 'leader connection lost: no longer the leader');
      this.holdOffUntil = this.now() + (this.opts.rejoinMs ?? 3 * this.checkMs);
    }
    this.setLeading(false);
    if (c) void c.end().catch(() => undefined);
  }

  private setLeading(v: boolean): void {
    if (this.leading === v) return;
    this.leading = v;
    if (v) this.opts.logger?.info('acquired the leader lock: this replica now leads');
    this.opts.onChange?.(v);
  }
}
