/**
 * The outbox sender: claims due notifications, delivers each through its channel, and records the outcome.
 * Runs on the leader only (a PeriodicTask gated on the LeaderElector); claims carry a lease so that a sender
 * that died mid-send is replaced once the lease runs out. Each delivery carries the row's idempotency key, so a
 * resend after a crash between delivery and commit is recognisable by the receiver. Failed attempts back off
 * exponentially (base · 2^attempts, capped) until `maxAttempts`; permanent failures are not retried.
 */
import type { Logger } from 'pino';
import type { AlertsStore, ChannelRecord, OutboxRow } from '../../store/alerts.js';
import { PeriodicTask, type Gate } from '../../platform/periodic.js';
import { CHANNELS, ChannelError, type ChannelDriver, type Notification, type SendContext } from './channels/index.js';

export interface SenderOptions {
  store: AlertsStore;
  now: () => number;
  /** Identifies this sender's claims (e.g. the server id). */
  owner: string;
  send: SendContext;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  batch?: number;
  gate?: Gate;
  logger?: Logger;
  /** Replaces the channel registry (tests: a channel that records). */
  drivers?: Partial<Record<string, ChannelDriver>>;
}

export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempts, 30));
}

export class NotificationSender {
  readonly task: PeriodicTask<number>;
  private readonly leaseMs: number;

  constructor(private readonly o: SenderOptions) {
    this.leaseMs = o.send.timeoutMs * 2 + 5000;
    this.task = new PeriodicTask(() => this.pass(), { gate: o.gate, onError: (err) => o.logger?.error({ err }, 'notification pass failed') });
  }

  /** One pass over due rows (until none is due); returns how many were attempted. Use `task.run()` for the gated one. */
  async pass(): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await this.o.store.claimDue(this.o.owner, this.o.now(), this.o.batch ?? 50, this.leaseMs);
      if (rows.length === 0) return total;
      total += rows.length;
      const channels = new Map<string, ChannelRecord | null>();
      for (const r of rows) if (!channels.has(r.channelId)) channels.set(r.channelId, await this.o.store.getChannel(r.channelId));
      await Promise.all(rows.map((r) => this.deliver(r, channels.get(r.channelId) ?? null)));
    }
  }

  private async deliver(row: OutboxRow, channel: ChannelRecord | null): Promise<void> {
    const { store, now } = this.o;
    if (!channel || !channel.enabled) {
      await store.markFailed(row.id, now(), channel ? `channel ${channel.name} is disabled` : 'channel was deleted', now(), true);
      return;
    }
    const driver = (this.o.drivers?.[channel.type] ?? CHANNELS[channel.type]) as ChannelDriver;
    try {
      const settings = driver.settings.parse(channel.settings);
      const detail = await driver.send(settings, row.payload as Notification, this.o.send);
      await store.markDelivered(row.id, now(), detail);
    } catch (err) {
      const permanent = err instanceof ChannelError ? err.permanent : false;
      const message = err instanceof Error ? err.message : String(err);
      const attempts = row.attempts + 1;
      const dead = permanent || attempts >= this.o.maxAttempts;
      const next = now() + backoffMs(row.attempts, this.o.retryBaseMs, this.o.retryMaxMs);
      this.o.logger?.warn({ channel: channel.name, incidentId: row.incidentId, attempts, dead, err: message }, 'notification failed');
      await store.markFailed(row.id, now(), message, next, dead);
    }
  }
}
