export interface BackoffOptions {
  /** First delay (ms). Default 1000. */
  baseMs?: number;
  /** Largest delay (ms). Default 30 000. */
  capMs?: number;
  /** Relative jitter: the delay is scaled by a factor in [1 − jitter, 1 + jitter]. Default 0.2. */
  jitter?: number;
}

/**
 * Delay before retry number `attempt` (0 = the wait after the first failure):
 * 1 s → 2 s → 4 s → 8 s → 16 s, capped at 30 s, each scaled by ±20 % jitter so a fleet
 * restarted together does not retry in lockstep. `random` returns a number in [0, 1).
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = opts.baseMs ?? 1000;
  const cap = opts.capMs ?? 30_000;
  const jitter = opts.jitter ?? 0.2;
  const nominal = Math.min(cap, base * 2 ** Math.max(0, Math.min(attempt, 30)));
  const factor = 1 - jitter + 2 * jitter * random();
  return Math.round(Math.min(cap, nominal * factor));
}
