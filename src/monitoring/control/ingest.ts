/**
 * Ingest: results from all worker streams are queued and written in batches, one transaction per batch
 * (results arriving in the same event-loop turn share a transaction, up to `maxBatch`). Each submitter's promise
 * settles only after its batch committed, so the stream sends the ACK after the commit.
 */
import type { Logger } from 'pino';
import type { IngestOutcome, MonitoringStore, ResultInput } from '../../store/monitoring.js';
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

export class IngestQueue {
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly d: { store: MonitoringStore; now: () => number; maxBatch?: number; logger?: Logger; metrics?: MonitoringMetrics },
  ) {}

  private readonly listeners: StoredListener[] = [];

  /** Adds a listener for stored results (called after the commit; a throwing listener is logged). */
  onStored(l: StoredListener): void {
    this.listeners.push(l);
  }

  submit(workerId: string, result: ResultInput, job?: IngestedJob): Promise<IngestOutcome> {
    if (this.closed) return Promise.reject(new Error('ingest is shut down'));
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.queue.push({ item: { workerId, result }, job, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushing = this.drain().finally(() => {
        this.flushing = null;
        if (this.queue.length > 0) this.kick();
      });
    });
  }

  private async drain(): Promise<void> {
    const max = this.d.maxBatch ?? 1000;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, max);
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

  /** Waits for queued results to be written, then refuses new ones. */
  async close(): Promise<void> {
    while (this.queue.length > 0 || this.flushing || this.scheduled) {
      if (this.flushing) await this.flushing;
      else await new Promise<void>((r) => setImmediate(r));
    }
    this.closed = true;
  }
}
