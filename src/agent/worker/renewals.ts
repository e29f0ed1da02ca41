/**
 * Lease renewal of the jobs this worker holds: one LeaseRenewal every interval (the server's
 * lease_renew_interval_ms once registered), and the clock sample each answer carries (the server stamps
 * lease_expires_at = its now + lease length).
 */
import { create } from '@bufbuild/protobuf';
import { WorkerMessageSchema } from '../../gen/vantage/v1/worker_pb.js';
import type { LeaseRenewed, RegisterResponse, WorkerMessage } from '../../gen/vantage/v1/worker_pb.js';
import type { Timers } from '../../platform/sleep.js';
import { ntpSample } from './clock.js';
import type { ClockOffset } from './clock.js';

export interface RenewalDeps {
  now: () => number;
  timers: Timers;
  clock: ClockOffset;
  /** run ids of the jobs held (waiting or running) */
  heldRunIds(): string[];
  push(msg: WorkerMessage): boolean;
  /** whether a registered stream is live (the periodic tick does nothing otherwise) */
  live(): boolean;
  /** also run on each tick (the outbox's overdue-ack sweep) */
  onTick(): void;
}

export class LeaseRenewals {
  /** lease length from the register response; LeaseRenewed.lease_expires_at − this = server time of the renewal */
  private leaseTimeoutMs = 0;
  /** worker clock when the last LeaseRenewal was sent (one in flight at a time is enough for a clock sample) */
  private sentAt: number | null = null;
  private timer: unknown = null;

  constructor(
    private readonly d: RenewalDeps,
    private intervalMs: number,
  ) {}

  /** Takes the lease length and renewal interval the server announced. */
  registered(r: RegisterResponse): void {
    if (Number(r.leaseRenewIntervalMs) > 0) this.intervalMs = Number(r.leaseRenewIntervalMs);
    this.leaseTimeoutMs = Number(r.leaseTimeoutMs);
    this.sentAt = null;
  }

  /**
   * Sends one LeaseRenewal for every held job (none when nothing is held). `clockProbe` sends it even when
   * nothing is held: the answer is a clock sample taken on the warm stream (see Worker.onRegistered).
   */
  renew(opts: { clockProbe?: boolean } = {}): void {
    const ids = this.d.heldRunIds();
    if (ids.length === 0 && opts.clockProbe !== true) return;
    this.sentAt ??= this.d.now();
    this.d.push(create(WorkerMessageSchema, { msg: { case: 'leaseRenewal', value: { runIds: ids } } }));
  }

  schedule(): void {
    this.d.timers.clearTimeout(this.timer);
    this.timer = this.d.timers.setTimeout(() => {
      this.timer = null;
      if (!this.d.live()) return;
      this.renew();
      this.d.onTick();
      this.schedule();
    }, this.intervalMs);
  }

  /** The answer to a renewal: one more NTP-style clock sample. */
  renewed(r: LeaseRenewed): void {
    if (this.sentAt !== null && this.leaseTimeoutMs > 0 && Number(r.leaseExpiresAtMs) > 0) {
      const serverNow = Number(r.leaseExpiresAtMs) - this.leaseTimeoutMs;
      this.d.clock.add(ntpSample(this.sentAt, serverNow, serverNow, this.d.now()));
    }
    this.sentAt = null;
  }

  stop(): void {
    this.d.timers.clearTimeout(this.timer);
    this.timer = null;
  }
}
