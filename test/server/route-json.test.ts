import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RouteDecision } from '../../src/lb/routing/types.js';
import { answerFor } from '../../src/lb/handlers/route.js';
import { MAX_PREFIXES, RouteAnswerJson } from '../../src/lb/handlers/route-json.js';

type Picked = Extract<RouteDecision, { ok: true }>;

const picked = (over: Partial<Picked> = {}): Picked => ({
  ok: true,
  clientId: 'b1',
  hostname: 'host-1',
  endpoint: 'http://10.0.0.1:11000',
  reservationId: 'abcdef012345-1',
  tier: 'small',
  distanceKm: null,
  score: 1,
  sticky: false,
  gpuDeviceIds: [],
  ...over,
});

/** What the answer was before the cache: JSON.stringify of answerFor's body. */
const oracle = (d: Picked): string => JSON.stringify(answerFor(d, 1, 0).body);

describe('RouteAnswerJson', () => {
  it('writes exactly what JSON.stringify writes for the answer body, for any strings and numbers', () => {
    const json = new RouteAnswerJson();
    const text = fc.string({ unit: 'binary', maxLength: 40 }); // any UTF-16, lone surrogates and control characters too
    fc.assert(
      fc.property(
        fc.record({
          clientId: text,
          hostname: text,
          endpoint: text,
          reservationId: text,
          tier: text,
          sticky: fc.boolean(),
          distanceKm: fc.option(fc.double(), { nil: null }),
          gpuDeviceIds: fc.array(fc.nat(16), { maxLength: 4 }),
        }),
        (r) => {
          const d = picked(r);
          expect(json.text(d)).toBe(oracle(d));
          expect(json.text(d)).toBe(oracle(d)); // the second time from the cached prefix
          expect(() => JSON.parse(json.text(d)) as unknown).not.toThrow();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('does not reuse a prefix when the same endpoint now belongs to another client id or hostname', () => {
    const json = new RouteAnswerJson();
    const a = picked();
    expect(json.text(a)).toBe(oracle(a));
    for (const d of [picked({ clientId: 'b2' }), picked({ hostname: 'renamed' }), picked({ clientId: 'b2', hostname: 'x"y' })]) {
      expect(json.text(d)).toBe(oracle(d));
    }
    expect(json.size).toBe(1);
  });

  it('keeps at most MAX_PREFIXES prefixes', () => {
    const json = new RouteAnswerJson();
    for (let i = 0; i < MAX_PREFIXES + 10; i++) {
      const d = picked({ endpoint: `http://10.0.${i >> 8}.${i & 255}:1` });
      expect(json.text(d)).toBe(oracle(d));
    }
    expect(json.size).toBeLessThanOrEqual(MAX_PREFIXES);
    expect(json.size).toBeGreaterThan(0);
  });
});
