import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { tempDir } from './helpers.js';

const HOUR = 3_600_000;

describe('cleanup job: idle sticky assignments (real server, real SQLite file)', () => {
  let s: RunningServer | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(async () => {
    await s?.close();
    tmp?.cleanup();
  });

  it('forgets assignments unused for sticky_idle_ttl_hours, in memory and in the database, and keeps recent ones', async () => {
    tmp = tempDir('vantage-sticky-ttl-');
    let clock = 1_800_000_000_000;
    const config = loadServerConfig({
      flags: { host: '127.0.0.1', port: '0', database: `${tmp.dir}/v.db`, monitoring_enabled: 'false', health_check_enabled: 'false', sticky_idle_ttl_hours: '2', stale_minutes: '600' },
    }).config;
    s = await startServer(config, { logger: pino({ level: 'silent' }), now: () => clock });
    const e = s.engine;
    // Registered through the API, so the backend is in the database too (assignments reference it).
    const reg = await fetch(`${s.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'b1', hostname: 'b1', total_cpu: 8, total_memory_gb: 32, total_storage_gb: 500, endpoint_url: 'http://127.0.0.1:1' }),
    });
    expect(reg.status).toBe(200);
    const stats = () => ({ timestamp: clock, cpuUsage: [1, 1, 1, 1, 1, 1, 1, 1], memoryTotalGb: 32, memoryUsedGb: 1, memoryAvailGb: 31, diskTotalGb: 500, diskUsedGb: 1, diskAvailGb: 499, gpus: [] });
    e.reportStats('b1', stats(), clock);
    expect(e.route({ tier: 'small', stickyId: 'old' })).toMatchObject({ ok: true });
    clock += 90 * 60_000; // 1.5 h later
    e.reportStats('b1', stats(), clock);
    expect(e.route({ tier: 'small', stickyId: 'recent' })).toMatchObject({ ok: true });
    await s.writeBehind.flush();
    expect((await s.store.lb.listSticky()).map((a) => a.stickyId).sort()).toEqual(['old', 'recent']);

    clock += 1 * HOUR; // "old" is now 2.5 h idle, "recent" 1 h
    await s.runCleanup();
    expect(e.stickyAssignments().map((a) => a.stickyId)).toEqual(['recent']);
    await s.writeBehind.flush();
    expect((await s.store.lb.listSticky()).map((a) => a.stickyId)).toEqual(['recent']);
  });
});
