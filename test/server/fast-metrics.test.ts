import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastHistogram } from '../../src/server/fast-histogram.js';

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
