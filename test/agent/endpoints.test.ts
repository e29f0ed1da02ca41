import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_CONFIG_DEFAULTS } from '../../src/agent/config.js';
import { runAgent } from '../../src/app/agent.js';
import { startServer } from '../../src/app/server.js';
import { ConfigError, loadClientConfig } from '../../src/config/load.js';
import { ServerConfigSchema } from '../../src/config/server.js';
import { captureLogger } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vantage-endpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const yml = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('client.yml endpoints (Opsen key): path-based endpoints the agent registers', () => {
  it('is a known key: a list of {url, paths}, empty by default', () => {
    expect(loadClientConfig({}).config.endpoints).toEqual([]);
    const file = yml('ok.yml', 'endpoints:\n  - url: http://10.0.0.5:9000\n    paths: ["/api/", "/v2/*"]\n');
    const { config, warnings } = loadClientConfig({ file });
    expect(warnings).toEqual([]);
    expect(config.endpoints).toEqual([{ url: 'http://10.0.0.5:9000', paths: ['/api/', '/v2/*'] }]);
  });

  it('refuses an entry without paths or with a URL that is not http(s), naming the field', () => {
    const noPaths = yml('bad1.yml', 'endpoints:\n  - url: http://10.0.0.5:9000\n');
    expect(() => loadClientConfig({ file: noPaths })).toThrow(ConfigError);
    expect(() => loadClientConfig({ file: noPaths })).toThrow(/endpoints\[0\]\.paths/);
    const badUrl = yml('bad2.yml', 'endpoints:\n  - url: ftp://x\n    paths: ["/a"]\n');
    expect(() => loadClientConfig({ file: badUrl })).toThrow(/endpoints\[0\]\.url/);
  });

  it('the agent sends them with /register, and the server routes by path with them', async () => {
    // A tier that needs nothing: the host's real load (this machine's CPU) must not decide the answer.
    const tiers = [{ name: 'any', vcpu: 0, memory_gb: 0, storage_gb: 0 }];
    const config = ServerConfigSchema.parse({ port: 0, host: '127.0.0.1', database: join(dir, 'v.db'), monitoring_enabled: false, health_check_enabled: false, tiers });
    const s = await startServer(config, { logger: pino({ level: 'silent' }) });
    try {
      const code = await runAgent(
        {
          ...AGENT_CONFIG_DEFAULTS,
          server_url: s.url,
          skip_geolocation: true,
          state_dir: join(dir, 'state'),
          client_id: 'edge-1',
          endpoint_url: 'http://10.0.0.5:11000',
          endpoints: [{ url: 'http://10.0.0.5:9000', paths: ['/api/'] }],
        },
        { logger: captureLogger().logger, once: true, onceSeconds: 1 },
      );
      expect(code).toBe(0);
      const route = async (path: string) => {
        const r = await fetch(`${s.url}/route`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tier: 'any', path }) });
        const body = (await r.json()) as { endpoint?: string; error?: string };
        return body.endpoint ?? body.error;
      };
      expect(await route('/api/users')).toBe('http://10.0.0.5:9000');
      expect(await route('/static/app.js')).toBe('http://10.0.0.5:11000');
    } finally {
      await s.close({ timeoutMs: 1000 });
    }
  });
});
