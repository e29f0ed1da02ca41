import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from '../../src/platform/fast-metrics.js';

const BUCKETS = [1e-6, 1e-5, 1e-4, 1e-3];

describe('FastHistogram', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new FastHistogram('x_seconds', 'Help text.', BUCKETS, ours);
    const ref = new Histogram({ name: 'x_seconds', help: 'Help text.', buckets: BUCKETS, registers: [theirs] });
    // Values below, between, on and above the bounds, and zero.
    for (const v of [0, 5e-7, 1e-6, 3e-6, 1e-5, 2e-5, 5e-4, 1e-3, 0.5, 7]) {
      fast.observe(v);
      ref.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // After reset: the same as a fresh histogram (all buckets 0; prom-client's own reset() drops the series).
    fast.reset();
    const fresh = new Registry();
    new Histogram({ name: 'x_seconds', help: 'Help text.', buckets: BUCKETS, registers: [fresh] });
    expect(await ours.metrics()).toBe(await fresh.metrics());
  });

  it('ignores non-finite values instead of poisoning the sum, and refuses unsorted buckets', async () => {
    const reg = new Registry();
    const h = new FastHistogram('y_seconds', 'y', BUCKETS, reg);
    h.observe(Number.NaN);
    h.observe(Number.POSITIVE_INFINITY);
    h.observe(2e-6);
    const text = await reg.metrics();
    expect(text).toContain('y_seconds_count 1');
    expect(text).toContain('y_seconds_sum 0.000002');
    expect(text).toContain('y_seconds_bucket{le="0.00001"} 1');
    expect(() => new FastHistogram('z', 'z', [1, 1], new Registry())).toThrow(/buckets must increase/);
  });

  it('a second metric of the same name on one registry is refused', () => {
    const reg = new Registry();
    new FastHistogram('dup', 'd', BUCKETS, reg);
    expect(() => new FastHistogram('dup', 'd', BUCKETS, reg)).toThrow(/already been registered/);
  });
});

describe('FastCounter', () => {
  it("exposes exactly what prom-client's Counter exposes for the same increments", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new FastCounter('req_total', 'Requests.', ['route', 'status'], ours);
    const ref = new Counter({ name: 'req_total', help: 'Requests.', labelNames: ['route', 'status'], registers: [theirs] });
    const cell = fast.labels({ route: '/route', status: '200' });
    for (let i = 0; i < 5; i++) {
      cell.inc();
      ref.labels({ route: '/route', status: '200' }).inc();
    }
    fast.labels({ route: '/route', status: '503' }).inc(2);
    ref.labels({ route: '/route', status: '503' }).inc(2);
    // A label value that needs escaping, and the same series asked for again.
    fast.labels({ route: 'a"b\\c', status: 'aborted' }).inc();
    fast.labels({ route: 'a"b\\c', status: 'aborted' }).inc();
    ref.labels({ route: 'a"b\\c', status: 'aborted' }).inc(2);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('req_total{route="/route",status="200"} 5');
    fast.reset();
    ref.reset();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
