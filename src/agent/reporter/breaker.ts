export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  threshold?: number;
  /** How long the circuit stays open before one trial request (ms). Default 30 000. */
  openMs?: number;
  now: () => number;
  /** Called once per state change. */
  onChange?: (from: BreakerState, to: BreakerState, consecutiveFailures: number) => void;
}

/**
 * Circuit breaker: closed → open after `threshold` consecutive failures → half-open once
 * `openMs` has passed (one trial request allowed) → closed on success, or open again on failure.
 */
export class CircuitBreaker {
  private _state: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private readonly threshold: number;
  private readonly openMs: number;

  constructor(private readonly opts: BreakerOptions) {
    this.threshold = opts.threshold ?? 5;
    this.openMs = opts.openMs ?? 30_000;
  }

  get state(): BreakerState {
    return this._state;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Milliseconds until an open circuit lets a trial through (0 when not open). */
  retryInMs(): number {
    return this._state === 'open' ? Math.max(0, this.openedAt + this.openMs - this.opts.now()) : 0;
  }

  private set(to: BreakerState): void {
    const from = this._state;
    if (from === to) return;
    this._state = to;
    this.opts.onChange?.(from, to, this.failures);
  }

  /** Whether a request may be sent now. In half-open, only one trial at a time. */
  allow(): boolean {
    if (this._state === 'open' && this.opts.now() - this.openedAt >= this.openMs) this.set('half-open');
    if (this._state === 'closed') return true;
    if (this._state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.trialInFlight = false;
    this.failures = 0;
    this.set('closed');
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures += 1;
    if (this._state === 'half-open' || (this._state === 'closed' && this.failures >= this.threshold)) {
      this.openedAt = this.opts.now();
      this.set('open');
    }
  }
}
