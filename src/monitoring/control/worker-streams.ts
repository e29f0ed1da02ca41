/** The open worker streams of this server, as the job dispatcher and the stream health monitor see them. */
import type { LeasedJob } from '../../store/monitoring.js';
import type { StreamHealthState } from './stream-health.js';

export interface WorkerLink {
  /** Unique per stream (a worker that reconnects gets a new one). */
  readonly streamId: string;
  readonly workerId: string;
  readonly region: string;
  /** Check types the worker can run (leases are limited to them); absent or empty: any type. */
  readonly capabilities?: readonly string[];
  /** Jobs the worker asked for and has not received yet. */
  credits: number;
  readonly health: StreamHealthState;
  /** Sends leased jobs; false when the stream is gone (the leases then expire and the reaper requeues them). */
  deliverJobs(jobs: LeasedJob[]): boolean;
  sendPing(seq: number, sentAt: number): void;
  close(reason: string): void;
}

export class WorkerStreams {
  private readonly byWorker = new Map<string, WorkerLink>();
  private readonly listeners = new Set<() => void>();

  /** Adds a stream; returns the worker's previous stream (the caller closes it: newest wins). */
  add(link: WorkerLink): WorkerLink | undefined {
    const prev = this.byWorker.get(link.workerId);
    this.byWorker.set(link.workerId, link);
    this.changed();
    return prev;
  }

  /** Removes the stream if it is still the worker's current one. */
  remove(link: WorkerLink): void {
    if (this.byWorker.get(link.workerId) === link) {
      this.byWorker.delete(link.workerId);
      this.changed();
    }
  }

  get(workerId: string): WorkerLink | undefined {
    return this.byWorker.get(workerId);
  }

  all(): WorkerLink[] {
    return [...this.byWorker.values()];
  }

  get size(): number {
    return this.byWorker.size;
  }

  onChange(fn: () => void): void {
    this.listeners.add(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }
}
