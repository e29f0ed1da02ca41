import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { addBackend, api, statsBody, tempDir, testServerConfig } from './helpers.js';

const silent = pino({ level: 'silent' });
/** 16 cores of which `free` are below 80 % busy. */
const cores = (id: string, free: number) => statsBody(id, { cpu_usage_avg: Array.from({ length: 16 }, (_, i) => (i < free ? 10 : 95)) });

describe('503 when reservations hold the capacity: the answer says so and names the ways out', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(): Promise<{ s: RunningServer; tick: (ms: number) => void }> {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let clock = Date.now();
    const config = testServerConfig(t.dir, { proxy_endpoints: ['/app'] });
    const s = await startServer(config, { logger: silent, now: () => clock });
    cleanups.push(() => s.close({ timeoutMs: 1000 }));
    return { s, tick: (ms) => (clock += ms) };
  }

  it('/route: how many reservations, when the earliest expires, pending_allocation_timeout_seconds and DELETE /reservations/{id}', async () => {
    const { s, tick } = await start();
    await addBackend(s.url, 'two-cores', {}, cores('two-cores', 2)); // room for two `small` (1 vCPU) reservations
    const first = await api(s.url, '/route', { body: { tier: 'small' } });
    tick(30_000);
    const second = await api(s.url, '/route', { body: { tier: 'small' } });
    expect([first.status, second.status]).toEqual([200, 200]);

    const full = await api(s.url, '/route', { body: { tier: 'small' } });
    expect(full.status).toBe(503);
    const msg = full.json.error as string;
    expect(msg).toMatch(/^no backend available for tier "small": 1 backend: 1 lack CPU\. /);
    expect(msg).toContain('2 reservations hold that capacity');
    expect(msg).toContain('the earliest expires in 90 s');
    expect(msg).toContain('pending_allocation_timeout_seconds: 120');
    expect(msg).toContain('DELETE /reservations/{id} (the reservation_id of its /route answer)');
    // The existing fields stay; the reservations' share is a new one.
    expect(full.json).toMatchObject({ tier: 'small', total_backends: 1, reasons: { cpu: 1 } });
    expect(full.json.held_by_reservations).toEqual({
      backends: 1,
      reservations: 2,
      earliest_expires_in_seconds: 90,
      earliest_expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      pending_allocation_timeout_seconds: 120,
    });

    // The way out the message names: releasing one makes room again.
    const released = await api(s.url, `/reservations/${encodeURIComponent(first.json.reservation_id as string)}`, { method: 'DELETE' });
    expect(released.status).toBe(200);
    expect((await api(s.url, '/route', { body: { tier: 'small' } })).status).toBe(200);
  });

  it('says nothing about reservations when the backends lack the resources themselves', async () => {
    const { s } = await start();
    await addBackend(s.url, 'busy', {}, cores('busy', 0));
    const full = await api(s.url, '/route', { body: { tier: 'small' } });
    expect(full.status).toBe(503);
    expect(full.json.error).toBe('no backend available for tier "small": 1 backend: 1 lack CPU');
    expect(full.json.held_by_reservations).toBeUndefined();
  });

  it('the proxy answers its 503 the same way', async () => {
    const { s } = await start();
    await addBackend(s.url, 'one-core', {}, cores('one-core', 1));
    expect((await api(s.url, '/route', { body: { tier: 'small' } })).status).toBe(200);
    const proxied = await api(s.url, '/app/x?tier=small');
    expect(proxied.status).toBe(503);
    expect(proxied.json.error).toContain('1 reservation holds that capacity; the earliest expires in 120 s');
    expect(proxied.json.held_by_reservations).toMatchObject({ backends: 1, reservations: 1 });
  });
});
