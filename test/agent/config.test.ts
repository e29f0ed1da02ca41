import { describe, expect, it } from 'vitest';
import { AGENT_CONFIG_DEFAULTS, AGENT_CONFIG_KEYS } from '../../src/agent/config.js';
import { loadClientConfig } from '../../src/config/load.js';

describe('agent config', () => {
  it('its defaults are exactly the client.yml defaults of src/config', () => {
    const { config } = loadClientConfig({ env: {}, flags: {} });
    const picked = Object.fromEntries(AGENT_CONFIG_KEYS.map((k) => [k, config[k]]));
    expect(AGENT_CONFIG_DEFAULTS).toEqual(picked);
    expect(Object.keys(AGENT_CONFIG_DEFAULTS).sort()).toEqual([...AGENT_CONFIG_KEYS].sort());
  });
});
