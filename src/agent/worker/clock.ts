/**
 * Clock offset between this worker and the server, NTP style.
 *
 * offset = worker clock − server clock, so server time = worker time − offset.
 * One exchange with worker send t0, server receive t1, server send t2, worker
 * receive t3 (t0/t3 on the worker clock, t1/t2 on the server clock) gives
 *   server − worker = ((t1 − t0) + (t2 − t3)) / 2,  delay = (t3 − t0) − (t2 − t1)
 * and the true offset lies within ±delay/2 of the estimate. Of the recent
 * samples the one with the smallest delay is the most trustworthy (NTP's clock
 * filter), so that one is used.
 */

export interface OffsetSample {
  /** worker − server, ms */
  offsetMs: number;
  /** round-trip delay of the exchange, ms (error bound = delay / 2) */
  rttMs: number;
}

/** Sample from an exchange the worker started (t0, t3 worker clock; t1, t2 server clock). */
export function ntpSample(t0: number, t1: number, t2: number, t3: number): OffsetSample {
  const serverMinusWorker = (t1 - t0 + (t2 - t3)) / 2;
  return { offsetMs: -serverMinusWorker, rttMs: Math.max(0, t3 - t0 - (t2 - t1)) };
}

export class ClockOffset {
  private readonly samples: OffsetSample[] = [];
  private best: OffsetSample | null = null;

  constructor(private readonly keep = 8) {}

  add(sample: OffsetSample): void {
    if (!Number.isFinite(sample.offsetMs) || !Number.isFinite(sample.rttMs) || sample.rttMs < 0) return;
    this.samples.push(sample);
    if (this.samples.length > this.keep) this.samples.shift();
    let best = this.samples[0] ?? null;
    // The smallest round trip wins; of equal ones the newest (millisecond clocks make ties common on one host).
    for (const s of this.samples) if (best === null || s.rttMs <= best.rttMs) best = s;
    this.best = best;
  }

  /** worker − server in ms (0 until a sample arrived) */
  get offsetMs(): number {
    return this.best?.offsetMs ?? 0;
  }

  /** how far the true offset can be from offsetMs */
  get uncertaintyMs(): number {
    return this.best === null ? 0 : this.best.rttMs / 2;
  }

  get known(): boolean {
    return this.best !== null;
  }

  /** Server time now, given the worker clock. */
  toServer(workerMs: number): number {
    return workerMs - this.offsetMs;
  }

  /**
   * The earliest worker-clock time at which the server clock has certainly
   * reached `serverMs` (the offset estimate's error bound added), so a job
   * started then is never early.
   */
  notBefore(serverMs: number): number {
    return serverMs + this.offsetMs + this.uncertaintyMs;
  }
}
