/**
 * Passive outlier detection (Envoy-style "consecutive errors"): a backend that answers the proxy with
 * `threshold` consecutive failures (connect errors, resets, timeouts or 5xx statuses) is reported for ejection.
 * Any other response resets its streak. `threshold` 0 turns detection off.
 */
export class OutlierDetector {
  private readonly streaks = new Map<string, number>();

  constructor(private readonly threshold: number) {}

  get enabled(): boolean {
    return this.threshold > 0;
  }

  success(clientId: string): void {
    if (this.threshold > 0 && this.streaks.size > 0) this.streaks.delete(clientId);
  }

  /** Records a failure; true when this one completes a streak of `threshold` (the streak then restarts). */
  failure(clientId: string): boolean {
    if (this.threshold <= 0) return false;
    const n = (this.streaks.get(clientId) ?? 0) + 1;
    if (n >= this.threshold) {
      this.streaks.delete(clientId);
      return true;
    }
    this.streaks.set(clientId, n);
    return false;
  }

  streak(clientId: string): number {
    return this.streaks.get(clientId) ?? 0;
  }
}
