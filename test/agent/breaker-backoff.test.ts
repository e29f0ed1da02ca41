import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/agent/reporter/backoff.js';
import { CircuitBreaker } from '../../src/agent/reporter/breaker.js';
import type { BreakerState } from '../../src/agent/reporter/breaker.js';

describe('backoffDelay', () => {
  it('doubles from 1 s and caps at 30 s (no jitter at random = 0.5)', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((a) => backoffDelay(a, {}, mid))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it('applies ±20 % jitter and never exceeds the cap', () => {
    expect(backoffDelay(0, {}, () => 0)).toBe(800);
    expect(backoffDelay(0, {}, () => 0.999999)).toBe(1200);
    expect(backoffDelay(10, {}, () => 0.999999)).toBe(30000);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(i % 8, {}, Math.random);
      expect(d).toBeGreaterThanOrEqual(800);
      expect(d).toBeLessThanOrEqual(30000);
    }
  });

  it('treats a negative attempt as the first', () => {
    expect(backoffDelay(-3, {}, () => 0.5)).toBe(1000);
  });
});

describe('CircuitBreaker', () => {
  function make() {
    let t = 0;
    const changes: Array<[BreakerState, BreakerState]> = [];
    const b = new CircuitBreaker({ now: () => t, onChange: (f, to) => changes.push([f, to]) });
    return { b, changes, advance: (ms: number) => (t += ms) };
  }

  it('opens after 5 consecutive failures, half-opens after 30 s, closes on success', () => {
    const { b, changes, advance } = make();
    for (let i = 0; i < 4; i++) {
      expect(b.allow()).toBe(true);
      b.failure();
    }
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    expect(b.retryInMs()).toBe(30_000);
    advance(29_999);
    expect(b.allow()).toBe(false);
    advance(1);
    expect(b.allow()).toBe(true); // the one trial
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(false); // no second concurrent trial
    b.success();
    expect(b.state).toBe('closed');
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'closed'],
    ]);
  });

  it('a success resets the consecutive count', () => {
    const { b } = make();
    for (let i = 0; i < 4; i++) b.failure();
    b.success();
    for (let i = 0; i < 4; i++) b.failure();
    expect(b.state).toBe('closed');
    expect(b.consecutiveFailures).toBe(4);
  });

  it('a failed trial re-opens for another full period', () => {
    const { b, changes, advance } = make();
    for (let i = 0; i < 5; i++) b.failure();
    advance(30_000);
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    advance(29_000);
    expect(b.allow()).toBe(false);
    advance(1_000);
    expect(b.allow()).toBe(true);
    expect(changes.map((c) => c[1])).toEqual(['open', 'half-open', 'open', 'half-open']);
  });
});
