/**
 * Ingest: results from all worker streams are queued and written in batches, one transaction per batch.
 * The first result of a batch opens a window of `windowMs` (server.yml `ingest_batch_window_ms`); the results
 * arriving within it share the transaction, up to `maxBatch` (a full batch is written at once). With
 * windowMs 0 a batch is what arrives in one event-loop turn. Results that arrive while a transaction runs are
 * written right after it, without a new window. Each submitter's promise settles when its batch committed,
 * so the stream sends the ACK right after the commit.
 */
import type { Logger } from 'pino';
import type { IngestOutcome, MonitoringStore, ResultInput } from '../../store/monitoring.js';
import { backgroundTimers, type Timers } from '../../platform/timers.js';
import type { MonitoringMetrics } from './metrics.js';

/** The job a result belongs to, as the worker session leased it. */
export interface IngestedJob {
  monitorId: string;
  region: string;
}

/** Told of every result once its batch committed with outcome `stored` (e.g. the backend probes). */
export type StoredListener = (job: IngestedJob, result: ResultInput) => void;

interface Pending {
  item: { workerId: string; result: ResultInput };
  job: IngestedJob | undefined;
  resolve: (o: IngestOutcome) => void;
  reject: (e: unknown) => void;
}

export interface IngestDeps {
  store: MonitoringStore;
  now: () => number;
  maxBatch?: number;
  /** How long the first result of a batch waits for others (0 = one event-loop turn). */
  windowMs?: number;
  timers?: Timers;
  logger?: Logger;
  metrics?: MonitoringMetrics;
}

export class IngestQueue {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  /** The pending window timer or setImmediate; null when no flush is scheduled. */
  private scheduled: { cancel: () => void } | null = null;
  private closed = false;
  private readonly maxBatch: number;
  private readonly windowMs: number;
  private readonly timers: Timers;

  constructor(private readonly d: IngestDeps) {
    this.maxBatch = d.maxBatch ?? 1000;
    this.windowMs = d.windowMs ?? 0;
    this.timers = d.timers ?? backgroundTimers;
  }

  private readonly listeners: StoredListener[] = [];

  /** Adds a listener for stored results (called after the commit; a throwing listener is logged). */
  onStored(l: StoredListener): void {
    this.listeners.push(l);
  }

  submit(workerId: string, result: ResultInput, job?: IngestedJob): Promise<IngestOutcome> {
    if (this.closed) return Promise.reject(new Error('ingest is shut down'));
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.queue.push({ item: { workerId, result }, job, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flushSoon();
      else this.kick(this.windowMs);
    });
  }

  /** Schedules a flush `delayMs` from now unless one is scheduled or running. */
  private kick(delayMs: number): void {
    if (this.scheduled || this.flushing) return;
    const run = (): void => {
      this.scheduled = null;
      this.flushing = this.drain().finally(() => {
        this.flushing = null;
        // These waited for the transaction already: no second window.
        if (this.queue.length > 0) this.kick(0);
      });
    };
    if (delayMs <= 0) {
      const h = setImmediate(run);
      this.scheduled = { cancel: () => clearImmediate(h) };
    } else {
      const h = this.timers.setTimeout(run, delayMs);
      this.scheduled = { cancel: () => this.timers.clearTimeout(h) };
    }
  }

  /** A full batch (or a close) does not wait for the window. */
  private flushSoon(): void {
    if (this.flushing) return;
    this.scheduled?.cancel();
    this.scheduled = null;
    this.kick(0);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const outcomes = await this.d.store.ingestResults(
          batch.map((p) => p.item),
          this.d.now(),
        );
        this.d.metrics?.ingestBatch.observe(batch.length);
        batch.forEach((p, i) => {
          const o = outcomes[i]!;
          this.d.metrics?.results.inc({ outcome: o });
          if (o === 'stored' && p.job !== undefined) this.notify(p.job, p.item.result);
          p.resolve(o);
        });
      } catch (err) {
        this.d.logger?.error({ err, batch: batch.length }, 'ingest batch failed');
        this.d.metrics?.results.inc({ outcome: 'error' }, batch.length);
        for (const p of batch) p.reject(err);
      }
    }
  }

  private notify(job: IngestedJob, result: ResultInput): void {
    for (const l of this.listeners) {
      try {
        l(job, result);
      } catch (err) {
        this.d.logger?.error({ err, monitorId: job.monitorId }, 'stored-result listener failed');
      }
    }
  }

  /** Writes the queued results without waiting for the window, then refuses new ones. */
  async close(): Promise<void> {
    while (this.queue.length > 0 || this.flushing || this.scheduled) {
      if (this.flushing) await this.flushing;
      else {
        this.flushSoon();
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    this.closed = true;
  }
}
