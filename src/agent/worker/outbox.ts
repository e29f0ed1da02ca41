/**
 * Results waiting for their ack. Each is kept until the server acks it: committed → done; lease_lost or
 * invalid → dropped; any other reason → resent with backoff; no ack within ackTimeoutMs on a live stream →
 * resent (sweep); stream dropped → resent after the next registration. Ingest is idempotent on
 * (run_id, event_at), and a resend carries exactly the same message.
 */
import type { Logger } from 'pino';
import type { ResultAck, WorkerMessage } from '../../gen/vantage/v1/worker_pb.js';
import type { Timers } from '../../platform/sleep.js';
import { backoffDelay } from '../reporter/backoff.js';
import type { BackoffOptions } from '../reporter/backoff.js';

interface Pending {
  runId: string;
  msg: WorkerMessage;
  attempts: number;
  /** worker clock when last written to a live stream; null while waiting to be (re)sent */
  sentAt: number | null;
  timer: unknown;
}

export interface OutboxCounters {
  resultsSent: number;
  resultsResent: number;
  resultsAcked: number;
  resultsDropped: number;
}

export interface OutboxDeps {
  log: Logger;
  now: () => number;
  timers: Timers;
  random: () => number;
  resendBackoff: BackoffOptions;
  ackTimeoutMs: number;
  counters: OutboxCounters;
  /** writes to the live stream; false when there is none (the result then waits for the next one) */
  push(msg: WorkerMessage): boolean;
  /** a result left the outbox (acked or dropped): there may be room to ask for more jobs */
  onSettled(): void;
}

export class Outbox {
  private readonly unacked = new Map<string, Pending>();

  constructor(private readonly d: OutboxDeps) {}

  get size(): number {
    return this.unacked.size;
  }

  has(runId: string): boolean {
    return this.unacked.has(runId);
  }

  /** Keeps a finished check's result and sends it now if a stream is live. */
  add(runId: string, msg: WorkerMessage): void {
    const p: Pending = { runId, msg, attempts: 0, sentAt: null, timer: null };
    this.unacked.set(runId, p);
    this.send(p);
  }

  /** After a registration: every waiting result goes out (counted as a resend unless it is a first send). */
  sendAll(reconnect: boolean): void {
    for (const p of this.unacked.values()) {
      this.d.timers.clearTimeout(p.timer);
      p.timer = null;
      if (p.attempts > 0 || p.sentAt !== null || reconnect) this.d.counters.resultsResent++;
      this.send(p);
    }
  }

  /** Resend results whose ack is overdue on a live stream. */
  sweep(): void {
    const t = this.d.now();
    for (const p of this.unacked.values()) {
      if (p.sentAt !== null && t - p.sentAt >= this.d.ackTimeoutMs) {
        this.d.counters.resultsResent++;
        this.send(p);
      }
    }
  }

  /** The stream dropped: nothing is in flight any more; everything waits for the next registration. */
  detach(): void {
    for (const p of this.unacked.values()) {
      this.d.timers.clearTimeout(p.timer);
      p.timer = null;
      p.sentAt = null;
    }
  }

  /** Stopping: cancel the resend timers (what is still unacked is given up). */
  clearTimers(): void {
    for (const p of this.unacked.values()) this.d.timers.clearTimeout(p.timer);
  }

  onAck(ack: ResultAck): void {
    const p = this.unacked.get(ack.runId);
    if (p === undefined) return;
    if (ack.committed) {
      this.d.timers.clearTimeout(p.timer);
      this.unacked.delete(ack.runId);
      this.d.counters.resultsAcked++;
      this.d.onSettled();
      return;
    }
    if (ack.reason === 'lease_lost' || ack.reason === 'invalid') {
      this.d.timers.clearTimeout(p.timer);
      this.unacked.delete(ack.runId);
      this.d.counters.resultsDropped++;
      this.d.log.warn({ run_id: ack.runId, reason: ack.reason }, 'result not stored by the server; dropped');
      this.d.onSettled();
      return;
    }
    const delay = backoffDelay(p.attempts, this.d.resendBackoff, this.d.random);
    p.attempts++;
    p.sentAt = null;
    this.d.timers.clearTimeout(p.timer);
    p.timer = this.d.timers.setTimeout(() => {
      p.timer = null;
      if (!this.unacked.has(p.runId)) return;
      this.d.counters.resultsResent++;
      this.send(p);
    }, delay);
  }

  private send(p: Pending): void {
    if (this.d.push(p.msg)) {
      p.sentAt = this.d.now();
      this.d.counters.resultsSent++;
    } else {
      p.sentAt = null; // goes out when the stream is back
    }
  }
}
