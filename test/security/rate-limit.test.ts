import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { rateLimitHeaders, TokenBucketLimiter } from '../../src/http/stages/rate-limit.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at the per-minute rate', () => {
    const c = clock();
    const rl = new TokenBucketLimiter({ perMinute: 60, burst: 3, now: c.now });
    expect([1, 2, 3].map(() => rl.take('a').allowed)).toEqual([true, true, true]);
    const denied = rl.take('a');
    expect(denied.allowed).toBe(false);
    expect(denied.remaining).toBe(0);
    expect(denied.retryAfterSeconds).toBe(1);
    c.advance(999);
    expect(rl.take('a').allowed).toBe(false);
    c.advance(1);
    expect(rl.take('a').allowed).toBe(true);
    expect(rl.take('a').allowed).toBe(false);
    // Another key has its own bucket.
    expect(rl.take('b').allowed).toBe(true);
  });

  it('never exceeds the burst however long a key is idle', () => {
    const c = clock();
    const rl = new TokenBucketLimiter({ perMinute: 600, burst: 5, now: c.now });
    rl.take('a');
    c.advance(3_600_000);
    let n = 0;
    while (rl.take('a').allowed) n++;
    expect(n).toBe(5);
  });

  it('reports remaining tokens, reset time and Retry-After', () => {
    const c = clock();
    const rl = new TokenBucketLimiter({ perMinute: 60, burst: 120, now: c.now });
    const d = rl.take('x');
    expect(d).toMatchObject({ allowed: true, limit: 120, remaining: 119, resetSeconds: 1, retryAfterSeconds: 0 });
    const h = rateLimitHeaders(d, rl.settings);
    expect(h).toEqual({ 'RateLimit-Limit': '120', 'RateLimit-Remaining': '119', 'RateLimit-Reset': '1', 'RateLimit-Policy': '120;w=120' });
    for (let i = 0; i < 119; i++) rl.take('x');
    const denied = rl.take('x');
    expect(denied.allowed).toBe(false);
    expect(denied.resetSeconds).toBe(120);
    expect(rateLimitHeaders(denied, rl.settings)['Retry-After']).toBe('1');
  });

  it('Retry-After reflects a slow refill rate', () => {
    const c = clock();
    const rl = new TokenBucketLimiter({ perMinute: 2, burst: 1, now: c.now });
    rl.take('k');
    expect(rl.take('k').retryAfterSeconds).toBe(30);
  });

  it('reconfigure applies new rates and caps existing buckets at the new burst', () => {
    const c = clock();
    const rl = new TokenBucketLimiter({ perMinute: 60, burst: 10, now: c.now });
    rl.take('a');
    rl.reconfigure({ perMinute: 60, burst: 2 });
    expect(rl.take('a').allowed).toBe(true);
    expect(rl.take('a').allowed).toBe(true);
    expect(rl.take('a').allowed).toBe(false);
    rl.reconfigure({ perMinute: 6000, burst: 2 });
    c.advance(10);
    expect(rl.take('a').allowed).toBe(true);
    expect(() => rl.reconfigure({ perMinute: 0, burst: 2 })).toThrow(/rate_limit_per_minute/);
    expect(() => new TokenBucketLimiter({ perMinute: 1, burst: 0 })).toThrow(/rate_limit_burst/);
  });

  it('forgets refilled buckets (sweep and lazily on use)', () => {
    const c = clock();
    const rl = new TokenBucketLimiter({ perMinute: 60, burst: 2, now: c.now });
    for (let i = 0; i < 100; i++) rl.take(`k${i}`);
    expect(rl.size).toBe(100);
    c.advance(2000); // a full refill time: every bucket full again
    expect(rl.sweep()).toBe(100);
    expect(rl.size).toBe(0);
    for (let i = 0; i < 100; i++) rl.take(`k${i}`);
    c.advance(2000);
    // New traffic forgets the idle buckets without a sweep.
    for (let i = 0; i < 60; i++) rl.take(`n${i}`);
    expect(rl.size).toBeLessThan(100);
  });

  it('does not forget a bucket that is still limited', () => {
    const c = clock();
    const rl = new TokenBucketLimiter({ perMinute: 60, burst: 1, now: c.now });
    rl.take('hot');
    expect(rl.take('hot').allowed).toBe(false);
    for (let i = 0; i < 1000; i++) rl.take(`other${i}`);
    expect(rl.take('hot').allowed).toBe(false);
  });

  it('keeps memory bounded under a flood of 1 000 000 distinct addresses', () => {
    const c = clock();
    const maxBuckets = 50_000;
    const rl = new TokenBucketLimiter({ perMinute: 60, burst: 120, now: c.now, maxBuckets });
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    for (let i = 0; i < 1_000_000; i++) {
      // Distinct addresses within 10.0.0.0/8 … 11.x, one request each, 1 ms apart.
      const ip = `${10 + (i >>> 24)}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
      const d = rl.take(ip);
      if (!d.allowed) throw new Error(`first request of ${ip} denied`);
      if (rl.size > peak) peak = rl.size;
      if ((i & 1023) === 0) c.advance(1);
    }
    gc();
    const grownMb = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    expect(peak).toBeLessThanOrEqual(maxBuckets);
    expect(rl.evicted).toBeGreaterThanOrEqual(1_000_000 - maxBuckets);
    // 1 000 000 retained buckets need about 100 MB (measured with an uncapped limiter); the capped one a few MB.
    expect(grownMb).toBeLessThan(30);
  });
});
