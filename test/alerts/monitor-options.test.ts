import { describe, expect, it } from 'vitest';
import { validateMonitorInput } from '../../src/api/web/validation.js';
import { parseMonitorOverride } from '../../src/monitoring/alerts/rules.js';

describe('a monitor carries its own alert rule in options.alerts', () => {
  it('is accepted by the monitor schema and read back as the override', () => {
    const v = validateMonitorInput({ name: 'api', url: 'https://example.com/', options_json: JSON.stringify({ alerts: { failure_threshold: 5, region_quorum: 2 } }) });
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(parseMonitorOverride(v.spec.options as Record<string, unknown>)).toEqual({ override: { failure_threshold: 5, region_quorum: 2 } });
  });

  it('a bad rule is refused at the boundary, naming the field', () => {
    const v = validateMonitorInput({ name: 'api', url: 'https://example.com/', options_json: JSON.stringify({ alerts: { failure_threshold: 0 } }) });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.error).toMatch(/alerts\.failure_threshold/);
  });

  it('an unknown rule key is refused too (the schema stays strict)', () => {
    const v = validateMonitorInput({ name: 'api', url: 'https://example.com/', options_json: JSON.stringify({ alerts: { failure_treshold: 2 } }) });
    expect(v.ok).toBe(false);
  });
});
