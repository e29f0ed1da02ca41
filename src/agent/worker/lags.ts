/** The start lags of the last `window` checks (start − scheduled_at, server clock), for stats(). */
export class LagWindow {
  private readonly lags: Float64Array;
  private count = 0;

  constructor(window: number) {
    this.lags = new Float64Array(Math.max(1, window));
  }

  record(lagMs: number): void {
    this.lags[this.count % this.lags.length] = lagMs;
    this.count++;
  }

  reset(): void {
    this.count = 0;
  }

  summary(): { count: number; p50: number; p99: number; max: number } {
    const n = Math.min(this.count, this.lags.length);
    const lags = Array.from(this.lags.subarray(0, n)).sort((a, b) => a - b);
    const q = (f: number): number => (n === 0 ? 0 : (lags[Math.min(n - 1, Math.floor(f * n))] ?? 0));
    return { count: this.count, p50: q(0.5), p99: q(0.99), max: n === 0 ? 0 : (lags[n - 1] ?? 0) };
  }
}
