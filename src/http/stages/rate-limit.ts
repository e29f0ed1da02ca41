import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';
import { connectionClose } from '../http2.js';
import type { LiveSecurity } from '../live-security.js';
import type { Stage } from '../pipeline.js';
import { deferHeaders } from '../response.js';

/**
 * Token-bucket rate limiting per client key (`rate_limit_per_minute` refill, `rate_limit_burst` size), with
 * bounded memory.
 *
 * Memory: buckets live in two generations (maps). A key used in the current generation is in `cur`; a key
 * last used in the previous one is moved to `cur` when it is used again. Generations turn over
 * - after `refill time` (burst ÷ rate: the time an empty bucket needs to fill up): every bucket still in the
 *   old generation then has been idle at least that long, so it is full, which is the same as having no
 *   bucket; dropping it is invisible;
 * - when `cur` holds half of `maxBuckets` (an IP-spraying flood): the old generation is dropped early, so the
 *   limiter never holds more than `maxBuckets` buckets. An early drop can only make the limiter more lenient
 *   for the dropped keys (they start again with a full bucket), never block a client wrongly.
 * Every operation is O(1); nothing ever scans the maps.
 *
 * Time comes from the injected `now()` (ms), so behaviour is tested without waiting.
 */
export interface RateLimitSettings {
  /** Tokens added per minute (`rate_limit_per_minute`). */
  perMinute: number;
  /** Bucket size (`rate_limit_burst`). */
  burst: number;
}

export interface RateLimiterOptions extends RateLimitSettings {
  now?: () => number;
  /** Most buckets kept at once (default 100 000). */
  maxBuckets?: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Bucket size. */
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until a denied request may be retried (0 when allowed). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

export const DEFAULT_MAX_BUCKETS = 100_000;

export class TokenBucketLimiter {
  private cur = new Map<string, Bucket>();
  private prev = new Map<string, Bucket>();
  private genStart: number;
  private perMs: number;
  private burst: number;
  private readonly now: () => number;
  private readonly maxBuckets: number;
  private droppedEarly = 0;
  private lastTouch: number;

  constructor(opts: RateLimiterOptions) {
    validate(opts);
    this.perMs = opts.perMinute / 60_000;
    this.burst = opts.burst;
    this.now = opts.now ?? Date.now;
    this.maxBuckets = Math.max(2, opts.maxBuckets ?? DEFAULT_MAX_BUCKETS);
    this.genStart = this.now();
    this.lastTouch = this.genStart;
  }

  /** Buckets currently held. */
  get size(): number {
    return this.cur.size + this.prev.size;
  }

  /** Buckets dropped before they had refilled, because the limiter was full (flood of distinct keys). */
  get evicted(): number {
    return this.droppedEarly;
  }

  get settings(): RateLimitSettings {
    return { perMinute: this.perMs * 60_000, burst: this.burst };
  }

  /** Time an empty bucket needs to fill up, in ms. */
  private get refillMs(): number {
    return this.burst / this.perMs;
  }

  /** New rates apply at once; existing buckets keep their tokens, capped at the new burst. */
  reconfigure(settings: RateLimitSettings): void {
    validate(settings);
    const t = this.now();
    for (const m of [this.prev, this.cur]) for (const b of m.values()) this.refill(b, t);
    this.perMs = settings.perMinute / 60_000;
    this.burst = settings.burst;
    for (const m of [this.prev, this.cur]) for (const b of m.values()) if (b.tokens > this.burst) b.tokens = this.burst;
  }

  /** Takes `cost` tokens from `key`'s bucket if it has them. */
  take(key: string, cost = 1): RateDecision {
    const t = this.now();
    this.turnOver(t);
    this.lastTouch = t;
    let b = this.cur.get(key);
    if (b === undefined) {
      b = this.prev.get(key);
      if (b !== undefined) this.prev.delete(key);
      else b = { tokens: this.burst, updated: t };
      if (this.cur.size >= this.maxBuckets >>> 1) this.rotate(t, true);
      this.cur.set(key, b);
    }
    this.refill(b, t);
    let allowed = false;
    if (b.tokens >= cost) {
      b.tokens -= cost;
      allowed = true;
    }
    return {
      allowed,
      limit: this.burst,
      remaining: Math.floor(b.tokens),
      resetSeconds: Math.ceil((this.burst - b.tokens) / this.perMs / 1000),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((cost - b.tokens) / this.perMs / 1000)),
    };
  }

  /** Drops buckets that have certainly refilled; returns how many. Call it from a periodic timer so memory
   * is released also when traffic stops. */
  sweep(): number {
    const before = this.size;
    this.turnOver(this.now());
    return before - this.size;
  }

  clear(): void {
    this.cur.clear();
    this.prev.clear();
  }

  private turnOver(t: number): void {
    if (t - this.lastTouch >= this.refillMs) {
      // Nothing touched for a full refill time: every bucket is full.
      if (this.size === 0) return;
      this.prev = new Map();
      this.cur = new Map();
      this.genStart = t;
      return;
    }
    if (t - this.genStart >= this.refillMs) this.rotate(t, false);
  }

  private rotate(t: number, early: boolean): void {
    if (early) this.droppedEarly += this.prev.size;
    this.prev = this.cur;
    this.cur = new Map();
    this.genStart = t;
  }

  private refill(b: Bucket, t: number): void {
    if (t > b.updated) {
      b.tokens = Math.min(this.burst, b.tokens + (t - b.updated) * this.perMs);
      b.updated = t;
    }
  }
}

function validate(s: RateLimitSettings): void {
  if (!Number.isFinite(s.perMinute) || s.perMinute <= 0) throw new RangeError(`rate_limit_per_minute: expected a positive number, got ${s.perMinute}`);
  if (!Number.isFinite(s.burst) || s.burst < 1) throw new RangeError(`rate_limit_burst: expected a positive number, got ${s.burst}`);
}

/** The response headers for a decision (IETF RateLimit header fields, draft 6 names). */
export function rateLimitHeaders(d: RateDecision, settings: RateLimitSettings): Record<string, string> {
  const list = rateLimitHeaderList(d, settings);
  const h: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) h[list[i]!] = list[i + 1]!;
  return h;
}

/** `RateLimit-Policy` of the last settings seen: the same text for every request until a reload. */
let policyFor: RateLimitSettings | null = null;
let policyText = '';

function policyValue(settings: RateLimitSettings): string {
  if (settings !== policyFor) {
    policyText = `${settings.burst};w=${Math.max(1, Math.round((settings.burst / settings.perMinute) * 60))}`;
    policyFor = settings;
  }
  return policyText;
}

/** The same headers as one flat [name, value, …] list (the form `deferHeaders` takes on the hot path). */
export function rateLimitHeaderList(d: RateDecision, settings: RateLimitSettings): string[] {
  const list = [
    'RateLimit-Limit',
    String(d.limit),
    'RateLimit-Remaining',
    String(d.remaining),
    'RateLimit-Reset',
    String(d.resetSeconds),
    'RateLimit-Policy',
    policyValue(settings),
  ];
  if (!d.allowed) list.push('Retry-After', String(d.retryAfterSeconds));
  return list;
}

function rateLimited(ip: string, d: RateDecision, settings: RateLimitSettings, headers: Record<string, string>): HttpError {
  return new HttpError(429, `rate limit exceeded for ${ip}: retry in ${d.retryAfterSeconds} s (rate_limit_per_minute: ${settings.perMinute}, rate_limit_burst: ${settings.burst})`, {
    headers,
  });
}

/**
 * The management pipeline's per-IP token bucket (`rate_limit_per_minute`, `rate_limit_burst`): 429 with
 * Retry-After and RateLimit-* headers, and the RateLimit-* headers on allowed requests too. Requests carrying
 * `server_key` skip it when `rate_limit_exempt_agents` (agents behind one NAT). Runs before the API-key stage,
 * so a flood of wrong keys is limited too.
 */
export function rateLimitStage(live: Pick<LiveSecurity, 'policy' | 'limiter' | 'isAgent' | 'onRateLimited'>): Stage {
  return (ctx, next) => {
    const p = live.policy();
    if (p.exemptAgents && live.isAgent(ctx.req)) return next();
    const d = live.limiter().take(ctx.ip);
    if (!d.allowed) {
      live.onRateLimited('management');
      throw rateLimited(ctx.ip, d, p.rateLimit, rateLimitHeaders(d, p.rateLimit));
    }
    deferHeaders(ctx.res, rateLimitHeaderList(d, p.rateLimit));
    return next();
  };
}

/**
 * The rate limit of proxied traffic (and WebSocket upgrades): its own buckets, no agent exemption, no headers on
 * allowed requests; the 429 closes an HTTP/1 connection. Returns the refusal, or null when allowed.
 */
export function proxiedRateLimit(live: Pick<LiveSecurity, 'policy' | 'proxyRateLimiter' | 'onRateLimited'>, req: IncomingMessage, ip: string): HttpError | null {
  const d = live.proxyRateLimiter().take(ip);
  if (d.allowed) return null;
  live.onRateLimited('proxy');
  const settings = live.policy().rateLimit;
  return rateLimited(ip, d, settings, { ...rateLimitHeaders(d, settings), ...connectionClose(req) });
}
