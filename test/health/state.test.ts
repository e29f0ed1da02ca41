import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyProbe, ewma, initialHealth, type HealthState } from '../../src/lb/health/index.js';

const t = { healthy: 2, unhealthy: 3 };
const run = (s: HealthState, results: boolean[]) => results.reduce((acc, ok) => applyProbe(acc, ok, t), s);

describe('health state machine', () => {
  it('unknown → healthy after 2 successes → unhealthy after 3 failures → healthy after 2 successes', () => {
    let s = initialHealth();
    s = applyProbe(s, true, t);
    expect(s.status).toBe('unknown');
    s = applyProbe(s, true, t);
    expect(s.status).toBe('healthy');
    s = run(s, [false, false]);
    expect(s.status).toBe('healthy');
    s = applyProbe(s, false, t);
    expect(s.status).toBe('unhealthy');
    s = applyProbe(s, true, t);
    expect(s.status).toBe('unhealthy');
    s = applyProbe(s, true, t);
    expect(s.status).toBe('healthy');
  });
  it('unknown → unhealthy after 3 failures; interrupted streaks do not count', () => {
    expect(run(initialHealth(), [false, false, false]).status).toBe('unhealthy');
    expect(run(initialHealth(), [false, false, true, false, false]).status).toBe('unknown');
    expect(run(initialHealth('unhealthy'), [true, false, true]).status).toBe('unhealthy');
  });
  it('property: status changes only at the end of a full streak', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), (results) => {
        let s = initialHealth();
        for (const ok of results) {
          const n = applyProbe(s, ok, t);
          if (n.status !== s.status) {
            if (ok) expect(n.successes).toBe(t.healthy);
            else expect(n.failures).toBe(t.unhealthy);
            expect(n.status).toBe(ok ? 'healthy' : 'unhealthy');
          }
          expect(n.successes === 0 || n.failures === 0).toBe(true);
          s = n;
        }
      }),
    );
  });
  it('EWMA: first sample as-is, then α = 0.3', () => {
    expect(ewma(null, 10)).toBe(10);
    expect(ewma(10, 20)).toBeCloseTo(13);
    expect(ewma(13, 13)).toBeCloseTo(13);
  });
});
