/**
 * Job credits: the worker asks for as many jobs as it has free slots (running + waiting + outstanding
 * credits ≤ max_concurrent_checks + prefetch), at most one JobRequest per tick, and not while too many
 * results wait for their ack. Credits still outstanding die with the stream.
 */
import { create } from '@bufbuild/protobuf';
import { WorkerMessageSchema } from '../../gen/vantage/v1/worker_pb.js';
import type { WorkerMessage } from '../../gen/vantage/v1/worker_pb.js';

export interface CreditDeps {
  /** max_concurrent_checks + prefetch */
  capacity: number;
  maxUnacked: number;
  /** jobs held (waiting or running) */
  held(): number;
  unacked(): number;
  /** whether job requests may be sent now (a registered stream, not stopping) */
  canAsk(): boolean;
  push(msg: WorkerMessage): boolean;
}

export class Credits {
  /** jobs asked for and not received yet */
  outstanding = 0;
  private queued = false;

  constructor(private readonly d: CreditDeps) {}

  /** A job arrived: one credit used. */
  used(): void {
    if (this.outstanding > 0) this.outstanding--;
  }

  /** The stream is gone, and its credits with it. */
  reset(): void {
    this.outstanding = 0;
  }

  /** Ask for as many jobs as there are free slots (coalesced to one JobRequest per tick). */
  topUp(): void {
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      if (!this.d.canAsk()) return;
      if (this.d.unacked() >= this.d.maxUnacked) return;
      const want = this.d.capacity - this.d.held() - this.outstanding;
      if (want <= 0) return;
      if (this.d.push(create(WorkerMessageSchema, { msg: { case: 'jobRequest', value: { count: want } } }))) this.outstanding += want;
    });
  }
}
