import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { ServerConfigSchema } from '../../src/config/server.js';
import { addBackend, api, statsBody, tempDir, testServerConfig } from './helpers.js';

const silent = pino({ level: 'silent' });
const busy = (id: string, pct: number) => statsBody(id, { cpu_usage_avg: Array.from({ length: 16 }, () => pct) });

/** A backend that answers its own name. */
async function backend(id: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.end(id));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('sticky_by_ip (Opsen key): the client address is the sticky id when the sticky header is absent', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(over: Record<string, unknown>): Promise<RunningServer> {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const a = await backend('A');
    const b = await backend('B');
    cleanups.push(() => void a.server.close(), () => void b.server.close());
    const config = testServerConfig(t.dir, { sticky_header: 'X-Session-ID', proxy_endpoints: ['/app'], trusted_proxies: ['127.0.0.1'], ...over });
    const s = await startServer(config, { logger: silent });
    cleanups.push(() => s.close({ timeoutMs: 1000 }));
    await addBackend(s.url, 'A', { endpoint_url: a.url }, busy('A', 10));
    await addBackend(s.url, 'B', { endpoint_url: b.url }, busy('B', 50));
    return s;
  }

  it('defaults to off', () => {
    expect(ServerConfigSchema.parse({}).sticky_by_ip).toBe(false);
  });

  it('/route: the body client_ip (else the caller) keeps its backend after another became better', async () => {
    const s = await start({ sticky_by_ip: true });
    const route = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => (await api(s.url, '/route', { body, headers })).json as Record<string, unknown>;
    expect(await route({ tier: 'small', client_ip: '203.0.113.7' })).toMatchObject({ client_id: 'A', sticky: false });
    expect(await route({ tier: 'small' })).toMatchObject({ client_id: 'A', sticky: false }); // the caller, 127.0.0.1
    await api(s.url, '/stats', { body: busy('A', 70) }); // B is the better backend now
    expect(await route({ tier: 'small', client_ip: '203.0.113.7' })).toMatchObject({ client_id: 'A', sticky: true });
    expect(await route({ tier: 'small' })).toMatchObject({ client_id: 'A', sticky: true });
    expect(await route({ tier: 'small', client_ip: '203.0.113.8' })).toMatchObject({ client_id: 'B', sticky: false });
    // The sticky header still wins over the address.
    expect(await route({ tier: 'small', client_ip: '203.0.113.7' }, { 'X-Session-ID': 'sess-1' })).toMatchObject({ client_id: 'B', sticky: false });
  });

  it('proxy: the client address resolved through trusted_proxies keeps its backend', async () => {
    const s = await start({ sticky_by_ip: true });
    const get = async (xff: string) => (await api(s.url, '/app/x?tier=small', { headers: { 'X-Forwarded-For': xff } })).text;
    expect(await get('198.51.100.1')).toBe('A');
    await api(s.url, '/stats', { body: busy('A', 70) });
    expect(await get('198.51.100.1')).toBe('A'); // sticky by address
    expect(await get('198.51.100.2')).toBe('B'); // another client: the best backend
    expect(s.engine.stickyAssignments().map((a) => a.stickyId).sort()).toEqual(['198.51.100.1', '198.51.100.2']);
  });

  it('off: requests without a sticky id are not sticky', async () => {
    const s = await start({});
    expect((await api(s.url, '/app/x?tier=small', { headers: { 'X-Forwarded-For': '198.51.100.1' } })).text).toBe('A');
    await api(s.url, '/stats', { body: busy('A', 70) });
    expect((await api(s.url, '/app/x?tier=small', { headers: { 'X-Forwarded-For': '198.51.100.1' } })).text).toBe('B');
    expect(s.engine.stickyAssignments()).toEqual([]);
  });
});
