import { describe, expect, it } from 'vitest';
import { key } from '../../src/agent/metrics/sampler.js';
import type { LatestTotals } from '../../src/agent/metrics/sampler.js';
import { SlidingWindow } from '../../src/agent/metrics/window.js';
import { buildRegister, buildStats, NotReadyError } from '../../src/agent/reporter/payload.js';
import type { Identity, Location } from '../../src/agent/reporter/payload.js';
import { RegisterBodySchema, RegisterRequestSchema, StatsBodySchema, StatsRequestSchema } from '../../src/api/lb/wire.js';

const GIB = 1024 ** 3;
const id: Identity = { clientId: 'c-9', hostname: 'gpu-host', localIp: '10.0.0.5', publicIp: '', endpointUrl: 'http://10.0.0.5:11000' };
const unknownLoc: Location = { latitude: null, longitude: null, country: '', city: '', publicIp: '', source: 'none' };
const paris: Location = { latitude: 48.8566, longitude: 2.3522, country: 'France', city: 'Paris', publicIp: '203.0.113.5', source: 'mmdb' };

function fleet() {
  const w = new SlidingWindow({ windowMs: 60_000, intervalMs: 1000 });
  const latest: LatestTotals = {
    cores: [0, 1, 3],
    memoryTotalBytes: 16 * GIB,
    diskTotalBytes: 100 * GIB,
    gpus: [
      { index: 0, name: 'NVIDIA H200', uuid: 'GPU-a', memoryTotalMiB: 143771 },
      { index: 1, name: 'NVIDIA H200', uuid: 'GPU-b', memoryTotalMiB: null },
    ],
  };
  // Two samples: cpu3 was just hot-plugged in and has only unknowns; cpu2 is gone (no longer in latest.cores).
  w.push(1000, new Map<string, number | null>([
    [key.cpu(0), 10], [key.cpu(1), 50], [key.cpu(2), 99], [key.cpu(3), null],
    [key.memUsed, 4 * GIB], [key.memAvail, 12 * GIB], [key.diskUsed, 40 * GIB], [key.diskAvail, 55 * GIB],
    [key.gpu(0, 'util'), 100], [key.gpu(0, 'mem_used'), 20085], [key.gpu(0, 'temp'), 58], [key.gpu(0, 'power'), 690],
    [key.gpu(1, 'util'), null], [key.gpu(1, 'mem_used'), null], [key.gpu(1, 'temp'), null], [key.gpu(1, 'power'), null],
  ]));
  w.push(2000, new Map<string, number | null>([
    [key.cpu(0), 30], [key.cpu(1), 70],
    [key.memUsed, 6 * GIB], [key.memAvail, 10 * GIB], [key.diskUsed, 40 * GIB], [key.diskAvail, 55 * GIB],
    [key.gpu(0, 'util'), 50], [key.gpu(0, 'mem_used'), 20085], [key.gpu(0, 'temp'), 60], [key.gpu(0, 'power'), 700],
  ]));
  return { w, latest };
}

describe('report bodies', () => {
  it('stats carry window averages per online core, memory, disk and GPU; unknown stays unknown', () => {
    const { w, latest } = fleet();
    const s = buildStats(w, latest, id, unknownLoc, 2000);
    expect(s).toEqual({
      client_id: 'c-9',
      hostname: 'gpu-host',
      timestamp: '1970-01-01T00:00:02.000Z',
      cpu_cores: 2,
      cpu_usage_avg: [20, 60],
      memory_total_gb: 16,
      memory_used_gb: 5,
      memory_avail_gb: 11,
      disk_total_gb: 100,
      disk_used_gb: 40,
      disk_avail_gb: 55,
      gpus: [
        { device_id: 0, name: 'NVIDIA H200', utilization_pct: 75, memory_used_gb: 19.614, memory_total_gb: 140.401, temperature_c: 59, power_draw_w: 695 },
        { device_id: 1, name: 'NVIDIA H200', utilization_pct: null, memory_used_gb: null, memory_total_gb: null, temperature_c: null },
      ],
    });
    expect(StatsRequestSchema.parse(s)).toEqual(s);
  });

  it('stats include the location only when known', () => {
    const { w, latest } = fleet();
    const s = buildStats(w, latest, id, paris, 2000);
    expect(s).toMatchObject({ latitude: 48.8566, longitude: 2.3522, country: 'France', city: 'Paris', public_ip: '203.0.113.5' });
    const u = buildStats(w, latest, id, unknownLoc, 2000);
    expect('latitude' in u || 'country' in u || 'public_ip' in u).toBe(false);
  });

  it('register carries totals, GPU models, endpoint and null for an unknown location', () => {
    const { latest } = fleet();
    const r = buildRegister(latest, id, unknownLoc);
    expect(r).toEqual({
      client_id: 'c-9',
      hostname: 'gpu-host',
      public_ip: '',
      local_ip: '10.0.0.5',
      latitude: null,
      longitude: null,
      country: '',
      city: '',
      total_cpu: 3,
      total_memory_gb: 16,
      total_storage_gb: 100,
      total_gpus: 2,
      gpu_models: ['NVIDIA H200', 'NVIDIA H200'],
      endpoint_url: 'http://10.0.0.5:11000',
    });
    expect(RegisterRequestSchema.parse(r)).toEqual(r);
  });

  it('register carries the configured endpoints (client.yml endpoints), and none when there are none', () => {
    const { latest } = fleet();
    const endpoints = [{ url: 'http://10.0.0.5:9000', paths: ['/api/', '/v2/*'] }];
    const r = buildRegister(latest, { ...id, endpoints }, unknownLoc);
    expect(r.endpoints).toEqual(endpoints);
    expect(RegisterRequestSchema.parse(r)).toEqual(r);
    expect(RegisterBodySchema.parse(r).endpoints).toEqual(endpoints);
    expect('endpoints' in buildRegister(latest, { ...id, endpoints: [] }, unknownLoc)).toBe(false);
  });

  it('the bodies the agent sends are accepted by the server’s wire schemas', () => {
    const { w, latest } = fleet();
    for (const loc of [unknownLoc, paris]) {
      expect(RegisterBodySchema.safeParse(buildRegister(latest, id, loc)).success).toBe(true);
      expect(StatsBodySchema.safeParse(buildStats(w, latest, id, loc, 2000)).success).toBe(true);
    }
    const noGpu = { ...latest, gpus: [] };
    const reg = buildRegister(noGpu, id, paris);
    expect('total_gpus' in reg).toBe(false);
    expect(RegisterBodySchema.safeParse(reg).success).toBe(true);
  });

  it('refuses to build a report before the first readings', () => {
    const w = new SlidingWindow({ windowMs: 60_000, intervalMs: 1000 });
    const empty: LatestTotals = { cores: [], memoryTotalBytes: null, diskTotalBytes: null, gpus: [] };
    expect(() => buildRegister(empty, id, unknownLoc)).toThrow(NotReadyError);
    expect(() => buildStats(w, { ...empty, cores: [0], memoryTotalBytes: GIB }, id, unknownLoc, 1000)).toThrow(NotReadyError);
  });

  it('window expiry flows into the report: old load drops out', () => {
    const { w, latest } = fleet();
    // 60 s after the last sample the window is empty: no report rather than stale figures.
    expect(() => buildStats(w, latest, id, unknownLoc, 62_000)).toThrow(NotReadyError);
  });
});
