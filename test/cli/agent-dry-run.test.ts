/**
 * `vantage agent --once --print` is a dry run (issue 16, item 10): it writes no state file and contacts
 * neither the server nor the geolocation service; the printed JSON says where the identity and location came from.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AGENT_CONFIG_DEFAULTS, type AgentConfig } from '../../src/agent/config.js';
import { runAgent } from '../../src/app/agent.js';
import { captureLogger } from '../agent/helpers.js';
import { fakeVantage, json, scriptedServer } from '../agent/http-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vantage-dry-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

interface Printed {
  register: { client_id: string; latitude: number | null };
  location_source: string;
  dry_run: { changed: string; client_id: string; location: string };
}

async function dryRun(over: Partial<AgentConfig>): Promise<{ printed: Printed; lanes: { server: number; ipapi: number } }> {
  const server = await scriptedServer(fakeVantage());
  const ipapi = await scriptedServer((_req, res) => json(res, 200, { ip: '203.0.113.9', latitude: 1, longitude: 2, country_name: 'X', city: 'Y' }));
  cleanups.push(server.close, ipapi.close);
  let out = '';
  const code = await runAgent({ ...AGENT_CONFIG_DEFAULTS, server_url: server.url, local_ip: '10.9.8.7', ...over }, {
    logger: captureLogger().logger,
    once: true,
    print: true,
    onceSeconds: 1,
    nvidiaSmi: join(dir, 'no-nvidia-smi'),
    gpuMode: 'exec',
    ipapiBaseUrl: ipapi.url,
    stdout: { write: (c: string) => (out += c) },
  });
  expect(code).toBe(0);
  return { printed: JSON.parse(out) as Printed, lanes: { server: server.requests.length, ipapi: ipapi.requests.length } };
}

describe('agent --once --print changes nothing and contacts nothing but this machine', () => {
  it('writes no state file and asks no geolocation service; says how the id and location are shown', async () => {
    const stateDir = join(dir, 'fresh', 'state');
    const { printed, lanes } = await dryRun({ state_dir: stateDir });
    expect(lanes).toEqual({ server: 0, ipapi: 0 });
    expect(existsSync(join(dir, 'fresh'))).toBe(false);
    expect(printed.register.client_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(printed.location_source).toBe('none');
    expect(printed.register.latitude).toBeNull();
    expect(printed.dry_run).toEqual({
      changed: 'nothing',
      client_id: `none saved yet: this id is random and was not saved; the first real run generates one and keeps it in ${join(stateDir, 'agent.json')}`,
      location: 'not looked up: a dry run contacts no geolocation service (a real run would ask ipapi.co)',
    });
  });

  it('shows the saved id from the state file and explicit coordinates, still contacting nothing', async () => {
    const stateDir = join(dir, 'kept');
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, 'agent.json'), JSON.stringify({ client_id: 'kept-id' }));
    const { printed, lanes } = await dryRun({ state_dir: stateDir, latitude: 50.11, longitude: 8.68 });
    expect(lanes).toEqual({ server: 0, ipapi: 0 });
    expect(printed.register).toMatchObject({ client_id: 'kept-id', latitude: 50.11 });
    expect(printed.dry_run).toMatchObject({ client_id: `from ${join(stateDir, 'agent.json')}`, location: 'from latitude/longitude' });
  });
});
