import { describe, expect, it } from 'vitest';
import { CpuSampler, cpuUsage, parseProcStat } from '../../src/agent/metrics/cpu.js';
import { diskFromStatfs, readDisk } from '../../src/agent/metrics/disk.js';
import {
  NvidiaSmiParseError,
  parseGpuLine,
  parseGpuNumber,
  parseNvidiaSmiCsv,
} from '../../src/agent/metrics/gpu-parse.js';
import { parseMeminfo } from '../../src/agent/metrics/memory.js';
import { fixture } from './helpers.js';

describe('/proc/stat', () => {
  it('parses every cpuN line and ignores the aggregate and other lines', () => {
    const cpus = parseProcStat(fixture('proc-stat-4core-a.txt'));
    expect([...cpus.keys()]).toEqual([0, 1, 2, 3]);
    // user+nice+system+idle+iowait+irq+softirq+steal; guest columns are not added twice.
    expect(cpus.get(0)).toEqual({ total: 10000 + 50 + 3000 + 100000 + 1000 + 0 + 200 + 25, idle: 101000 });
  });

  it('parses a real 16-core capture (H200 host)', () => {
    const cpus = parseProcStat(fixture('proc-stat-h200-16core.txt'));
    expect([...cpus.keys()]).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(cpus.get(1)).toEqual({ total: 228 + 15 + 2348 + 1, idle: 2348 });
  });

  it('parses a real capture of this kind of machine', () => {
    const cpus = parseProcStat(fixture('proc-stat-vm.txt'));
    expect(cpus.size).toBeGreaterThan(0);
    for (const t of cpus.values()) {
      expect(t.total).toBeGreaterThan(0);
      expect(t.idle).toBeLessThanOrEqual(t.total);
    }
  });

  it('computes per-core usage from deltas, counting iowait as idle and steal as busy', () => {
    const a = parseProcStat(fixture('proc-stat-4core-a.txt'));
    const b = parseProcStat(fixture('proc-stat-4core-b.txt'));
    const u = cpuUsage(a, b);
    expect(u.get(0)).toBeCloseTo(100);
    expect(u.get(1)).toBeCloseTo(0);
    expect(u.get(2)).toBeCloseTo(50);
    expect(u.get(3)).toBeCloseTo(100);
  });

  it('handles CPU hot-plug: an unplugged core disappears, a new core waits for its baseline', () => {
    const a = parseProcStat(fixture('proc-stat-4core-a.txt'));
    const b = parseProcStat(fixture('proc-stat-hotplug-b.txt'));
    const u = cpuUsage(a, b);
    expect([...u.keys()].sort()).toEqual([0, 1, 3]);
    expect(u.get(0)).toBeCloseTo(0);
    expect(u.get(1)).toBeCloseTo(100);
    expect(u.get(3)).toBeCloseTo(50);
  });

  it('handles counter wrap and backwards counters without negative or >100 values', () => {
    const a = parseProcStat(fixture('proc-stat-4core-a.txt'));
    const b = parseProcStat(fixture('proc-stat-wrap-b.txt'));
    const u = cpuUsage(a, b);
    expect(u.get(0)).toBeNull(); // total went backwards: unknown, re-baselined next time
    expect(u.get(1)).toBeCloseTo(50); // iowait decreased but idle+iowait still grew
    expect(u.get(2)).toBeNull(); // no time elapsed: unknown, not 0
    expect(u.get(3)).toBeCloseTo(50);
  });

  it('skips malformed lines', () => {
    const cpus = parseProcStat('cpu0 1 2 3\ncpu1 a b c d\ncpu2 -1 0 0 5\ncpu3 1 1 1 1\ncpuX 1 1 1 1\n');
    expect([...cpus.keys()]).toEqual([3]);
  });

  it('CpuSampler returns nothing on the first read, then usage; onlineCores follows hot-plug', async () => {
    const files = [fixture('proc-stat-4core-a.txt'), fixture('proc-stat-4core-b.txt'), fixture('proc-stat-hotplug-b.txt')];
    let i = 0;
    const s = new CpuSampler(async () => files[i++] ?? '');
    expect((await s.sample()).size).toBe(0);
    expect(s.online).toEqual([0, 1, 2, 3]);
    expect((await s.sample()).get(0)).toBeCloseTo(100);
    const third = await s.sample();
    expect(s.online).toEqual([0, 1, 3, 4]);
    expect(third.has(4)).toBe(false);
  });

  it('reads the real /proc/stat', async () => {
    const s = new CpuSampler();
    await s.sample();
    await new Promise((r) => setTimeout(r, 50));
    const u = await s.sample();
    expect(s.online.length).toBeGreaterThan(0);
    for (const v of u.values()) if (v !== null) expect(v).toBeGreaterThanOrEqual(0);
  });
});

describe('/proc/meminfo', () => {
  it('uses MemAvailable: used = total - available', () => {
    const m = parseMeminfo(fixture('meminfo-vm.txt'));
    const text = fixture('meminfo-vm.txt');
    const total = Number(/MemTotal:\s+(\d+)/.exec(text)?.[1]) * 1024;
    const avail = Number(/MemAvailable:\s+(\d+)/.exec(text)?.[1]) * 1024;
    expect(m.totalBytes).toBe(total);
    expect(m.availableBytes).toBe(avail);
    expect(m.usedBytes).toBe(total - avail);
  });

  it('parses the H200 host capture', () => {
    const m = parseMeminfo(fixture('meminfo-h200.txt'));
    expect(m.totalBytes).toBe(131981020 * 1024);
    expect(m.usedBytes).toBeGreaterThan(0);
  });

  it('estimates available on kernels without MemAvailable', () => {
    const m = parseMeminfo(fixture('meminfo-old-kernel.txt'));
    expect(m.totalBytes).toBe(2048000 * 1024);
    expect(m.availableBytes).toBe((512000 + 102400 + 409600 + 51200) * 1024);
    expect(m.usedBytes).toBe(m.totalBytes - m.availableBytes);
  });

  it('rejects a meminfo without MemTotal', () => {
    expect(() => parseMeminfo('MemFree: 100 kB\n')).toThrow(/MemTotal/);
    expect(() => parseMeminfo('')).toThrow(/MemTotal/);
    expect(() => parseMeminfo('MemTotal: 0 kB\n')).toThrow(/MemTotal/);
  });

  it('caps available at total', () => {
    const m = parseMeminfo('MemTotal: 100 kB\nMemAvailable: 200 kB\n');
    expect(m.availableBytes).toBe(100 * 1024);
    expect(m.usedBytes).toBe(0);
  });
});

describe('disk (statfs)', () => {
  it('computes total/used/available as df does', () => {
    const d = diskFromStatfs({ bsize: 4096n, blocks: 1000n, bfree: 300n, bavail: 250n });
    expect(d).toEqual({ totalBytes: 4096000, usedBytes: 700 * 4096, availableBytes: 250 * 4096 });
  });

  it('reads a real filesystem', async () => {
    const d = await readDisk('/');
    expect(d.totalBytes).toBeGreaterThan(0);
    expect(d.usedBytes + d.availableBytes).toBeLessThanOrEqual(d.totalBytes);
  });

  it('rejects a missing path', async () => {
    await expect(readDisk('/definitely/not/here')).rejects.toThrow();
  });
});

describe('nvidia-smi CSV', () => {
  it('parses the idle H200 capture', () => {
    const [g, ...rest] = parseNvidiaSmiCsv(fixture('query-idle.csv'));
    expect(rest).toHaveLength(0);
    expect(g).toEqual({
      index: 0,
      name: 'NVIDIA H200',
      uuid: 'GPU-5557bbc9-df64-cac4-52c6-8029cde1efa7',
      utilizationPct: 0,
      memoryTotalMiB: 143771,
      memoryUsedMiB: 0,
      memoryFreeMiB: 143156,
      temperatureC: 38,
      powerDrawW: 127.62,
    });
  });

  it('parses the busy -lms loop capture (one record per line)', () => {
    const all = parseNvidiaSmiCsv(fixture('query-busy-loop.csv'));
    expect(all.length).toBeGreaterThan(1);
    for (const g of all) {
      expect(g.utilizationPct).toBe(100);
      expect(g.memoryUsedMiB).toBe(20085);
      expect(g.powerDrawW).toBeGreaterThan(600);
    }
  });

  it('parses the 1 s loop capture the agent reads from its long-lived nvidia-smi', () => {
    const all = parseNvidiaSmiCsv(fixture('query-loop-1s-h200.csv'));
    expect(all.length).toBeGreaterThan(20);
    expect(new Set(all.map((g) => g.uuid))).toEqual(new Set(['GPU-cfa2f7ec-1500-b720-6a3d-3b4b04ed7535']));
    for (const g of all) expect(g).toMatchObject({ index: 0, utilizationPct: 0, memoryTotalMiB: 143771, memoryUsedMiB: 0 });
  });

  it('parses the with-header, with-units format too', () => {
    const [g] = parseNvidiaSmiCsv(fixture('query-idle-with-header.csv'));
    expect(g?.utilizationPct).toBe(0);
    expect(g?.memoryTotalMiB).toBe(143771);
    expect(g?.powerDrawW).toBeCloseTo(127.63);
  });

  it('parses multi-GPU output with [N/A], [Not Supported] and [Unknown Error] as unknown, never 0', () => {
    const gpus = parseNvidiaSmiCsv(fixture('nvidia-smi-multi-gpu-na.csv'));
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3]);
    expect(gpus[2]).toMatchObject({
      name: 'NVIDIA A100-SXM4-80GB',
      utilizationPct: null,
      memoryTotalMiB: 81920,
      memoryUsedMiB: null,
      memoryFreeMiB: null,
      temperatureC: null,
      powerDrawW: null,
    });
    expect(gpus[3]).toMatchObject({ utilizationPct: 37, temperatureC: null, powerDrawW: null });
  });

  it('keeps [N/A] in the captured extended query as unknown (fan.speed column)', () => {
    const line = fixture('query-busy-extended.csv').trim();
    const cols = line.split(',').map((c) => c.trim());
    expect(cols[9]).toBe('[N/A]');
    expect(parseGpuNumber(cols[9] ?? '')).toBeNull();
    expect(parseGpuNumber(cols[11] ?? '')).toBe(700);
  });

  it('re-joins a GPU name containing commas', () => {
    const g = parseGpuLine('1, Weird, Name GPU, GPU-abc, 5, 100, 10, 90, 40, 50.5');
    expect(g.name).toBe('Weird, Name GPU');
    expect(g.uuid).toBe('GPU-abc');
    expect(g.utilizationPct).toBe(5);
  });

  it('treats "No devices were found" as zero GPUs and rejects driver error text', () => {
    expect(parseNvidiaSmiCsv('No devices were found\n')).toEqual([]);
    expect(() => parseNvidiaSmiCsv(fixture('nvidia-smi-driver-error.txt'))).toThrow(NvidiaSmiParseError);
    expect(() => parseGpuLine('x, NVIDIA H200, GPU-1, 1, 2, 3, 4, 5, 6')).toThrow(/index/);
  });

  it('numeric field edge cases', () => {
    expect(parseGpuNumber('[Not Supported]')).toBeNull();
    expect(parseGpuNumber('N/A')).toBeNull();
    expect(parseGpuNumber('')).toBeNull();
    expect(parseGpuNumber('abc')).toBeNull();
    expect(parseGpuNumber('0')).toBe(0);
    expect(parseGpuNumber(' 12.5 W')).toBe(12.5);
  });
});
