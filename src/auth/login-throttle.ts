/**
 * Login throttling, pure (clock injected): failed sign-ins are counted per username and per client address
 * within a sliding window; at the limit further attempts are refused until the oldest counted failure leaves
 * the window. A successful sign-in clears the username's failures (not the address's, so one good account does
 * not launder guessing from the same address). State is in memory, per server process: with several replicas
 * each one counts its own attempts (documented in docs/web.md).
 */
export interface LoginThrottleOptions {
  maxPerUser: number;
  maxPerIp: number;
  windowMs: number;
  now: () => number;
  /** Most distinct keys tracked (oldest dropped first); bounds memory under a spray of usernames. */
  maxKeys?: number;
}

export type ThrottleVerdict = { ok: true } | { ok: false; retryAfterSeconds: number; scope: 'user' | 'ip' };

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly maxKeys: number;

  constructor(private readonly opts: LoginThrottleOptions) {
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  private live(key: string, at: number): number[] {
    const list = this.failures.get(key);
    if (!list) return [];
    const from = at - this.opts.windowMs;
    let i = 0;
    while (i < list.length && list[i]! <= from) i++;
    if (i > 0) list.splice(0, i);
    if (list.length === 0) this.failures.delete(key);
    return list;
  }

  private blocked(key: string, max: number, at: number): number | null {
    const list = this.live(key, at);
    if (list.length < max) return null;
    const oldest = list[list.length - max]!;
    return Math.max(1, Math.ceil((oldest + this.opts.windowMs - at) / 1000));
  }

  /** May this username try from this address now? */
  check(username: string, ip: string): ThrottleVerdict {
    const at = this.opts.now();
    const u = this.blocked(`u:${username.toLowerCase()}`, this.opts.maxPerUser, at);
    const i = this.blocked(`i:${ip}`, this.opts.maxPerIp, at);
    if (u === null && i === null) return { ok: true };
    if (i !== null && (u === null || i >= u)) return { ok: false, retryAfterSeconds: i, scope: 'ip' };
    return { ok: false, retryAfterSeconds: u!, scope: 'user' };
  }

  fail(username: string, ip: string): void {
    const at = this.opts.now();
    for (const key of [`u:${username.toLowerCase()}`, `i:${ip}`]) {
      const list = this.live(key, at);
      if (list.length === 0) {
        if (this.failures.size >= this.maxKeys) {
          const first = this.failures.keys().next().value;
          if (first !== undefined) this.failures.delete(first);
        }
        this.failures.set(key, [at]);
      } else {
        list.push(at);
      }
    }
  }

  succeed(username: string): void {
    this.failures.delete(`u:${username.toLowerCase()}`);
  }
}
