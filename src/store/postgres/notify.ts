/**
 * LISTEN/NOTIFY between replicas: one dedicated connection per process LISTENs on Vantage's channels and hands
 * each notification to the subscribers of its channel; it reconnects by itself (with backoff) after the
 * connection is lost, and reports `onReconnect` so that subscribers can catch up on what they missed.
 * Notifications are sent inside the writing transaction (`pg_notify`), so a replica is woken only after the
 * data it will read has been committed. Each payload carries the sender's origin id.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { backgroundTimers, type Timers } from '../../platform/timers.js';
import { clientConfig, type Queryable } from './db.js';

export const JOBS_CHANNEL = 'vantage_jobs';
export const LB_CHANNEL = 'vantage_lb';
const CHANNELS = [JOBS_CHANNEL, LB_CHANNEL] as const;
export type Channel = (typeof CHANNELS)[number];

/** Sends a notification on `c` (inside the caller's transaction: delivered at commit). */
export async function notify(c: Queryable, channel: Channel, payload: object): Promise<void> {
  await c.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify(payload)]);
}

export class PgNotifier {
  /** This process's id in every payload it sends. */
  readonly origin = randomUUID();
  private client: pg.Client | null = null;
  /** The connection being opened (between connect() and LISTEN done); at most one at a time. */
  private connecting: pg.Client | null = null;
  private readonly subs = new Map<Channel, Set<(payload: Record<string, unknown>) => void>>();
  private readonly reconnectSubs = new Set<() => void>();
  private timer: unknown = null;
  private closed = false;
  private delay = 250;
  private readonly timers: Timers;

  constructor(private readonly opts: { url: string; logger?: Logger; timers?: Timers }) {
    this.timers = opts.timers ?? backgroundTimers;
  }

  /** Subscribes to a channel (connecting on the first subscription); returns the unsubscribe function. */
  on(channel: Channel, fn: (payload: Record<string, unknown>) => void): () => void {
    let set = this.subs.get(channel);
    if (!set) this.subs.set(channel, (set = new Set()));
    set.add(fn);
    if (this.client === null && this.connecting === null) this.connectSoon(0);
    return () => set.delete(fn);
  }

  /** Called after every reconnection (notifications sent meanwhile were lost). */
  onReconnect(fn: () => void): () => void {
    this.reconnectSubs.add(fn);
    return () => this.reconnectSubs.delete(fn);
  }

  /** Resolves once the LISTEN connection is up (tests). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.client === null) {
      if (Date.now() > deadline || this.closed) throw new Error('notification listener not connected');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    const opening = this.connecting;
    this.client = null;
    this.connecting = null;
    await Promise.all([c?.end().catch(() => undefined), opening?.end().catch(() => undefined)]);
  }

  private connectSoon(ms: number): void {
    if (this.closed || this.timer !== null || this.connecting !== null) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, ms);
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({ ...clientConfig(this.opts.url, 'vantage-listen'), keepAlive: true });
    this.connecting = c;
    let dropped = false;
    const drop = (err?: unknown) => {
      if (dropped) return;
      dropped = true;
      if (this.client === c) this.client = null;
      if (this.connecting === c) this.connecting = null;
      void c.end().catch(() => undefined);
      if (this.closed) return;
      this.lastError = err instanceof Error ? err.message : 'connection ended';
      this.opts.logger?.warn({ err }, 'notification listener disconnected; reconnecting');
      this.delay = Math.min(this.delay * 2, 5_000);
      this.connectSoon(this.delay);
    };
    c.on('error', drop);
    c.on('end', () => drop());
    c.on('notification', (n) => {
      const set = this.subs.get(n.channel as Channel);
      if (!set || n.payload === undefined) return;
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(n.payload) as Record<string, unknown>;
      } catch {
        return;
      }
      for (const fn of set) fn(payload);
    });
    try {
      await c.connect();
      for (const ch of CHANNELS) await c.query(`LISTEN ${ch}`);
    } catch (err) {
      drop(err);
      return;
    }
    if (this.connecting === c) this.connecting = null;
    if (this.closed || dropped) {
      await c.end().catch(() => undefined);
      return;
    }
    const wasReconnect = this.delay !== 250 || this.everConnected;
    this.everConnected = true;
    this.client = c;
    this.delay = 250;
    if (wasReconnect) for (const fn of this.reconnectSubs) fn();
  }

  private everConnected = false;
  private lastError = '';

  /**
   * Null while the LISTEN connection is up; otherwise why it is not. That connection is always open, so it
   * notices a database outage (restart, network cut) as soon as the server drops it, without a probe of its own.
   */
  down(): string | null {
    if (this.client !== null || !this.everConnected) return null;
    return `database connection lost${this.lastError ? `: ${this.lastError}` : ''}; reconnecting`;
  }
}
