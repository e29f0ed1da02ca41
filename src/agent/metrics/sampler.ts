import type { Logger } from 'pino';
import type { CpuSampler } from './cpu.js';
import type { DiskSample } from './disk.js';
import type { GpuReading } from './gpu-parse.js';
import type { GpuSource } from './gpu.js';
import type { MemorySample } from './memory.js';
import type { SlidingWindow } from './window.js';

export type Resource = 'cpu' | 'memory' | 'disk' | 'gpu';

/** Static-ish figures from the most recent sample (totals are not averaged). */
export interface LatestTotals {
  /** Online core indexes, ascending. */
  cores: number[];
  memoryTotalBytes: number | null;
  diskTotalBytes: number | null;
  gpus: Array<Pick<GpuReading, 'index' | 'name' | 'uuid' | 'memoryTotalMiB'>>;
}

export interface SamplerDeps {
  cpu: CpuSampler;
  readMemory: () => Promise<MemorySample>;
  readDisk: () => Promise<DiskSample>;
  gpu: GpuSource | null;
  window: SlidingWindow;
  logger: Logger;
  now: () => number;
  /** Called with each resource's read time, in seconds. */
  onDuration?: (resource: Resource, seconds: number) => void;
}

export const key = {
  cpu: (core: number): string => `cpu:${core}`,
  memUsed: 'mem:used',
  memAvail: 'mem:avail',
  diskUsed: 'disk:used',
  diskAvail: 'disk:avail',
  gpu: (index: number, field: 'util' | 'mem_used' | 'temp' | 'power'): string => `gpu:${index}:${field}`,
} as const;

/** Reads every resource once per tick and feeds the sliding window. One failing resource never stops the others. */
export class ResourceSampler {
  readonly latest: LatestTotals = { cores: [], memoryTotalBytes: null, diskTotalBytes: null, gpus: [] };
  private readonly failing = new Set<Resource>();
  private ticks = 0;

  constructor(private readonly deps: SamplerDeps) {}

  get window(): SlidingWindow {
    return this.deps.window;
  }

  /** Number of completed ticks. */
  get tickCount(): number {
    return this.ticks;
  }

  private async timed<T>(resource: Resource, fn: () => Promise<T>): Promise<T | null> {
    const start = process.hrtime.bigint();
    try {
      const v = await fn();
      if (this.failing.delete(resource)) this.deps.logger.info({ resource }, '%s sampling recovered', resource);
      return v;
    } catch (e) {
      if (!this.failing.has(resource)) {
        this.failing.add(resource);
        this.deps.logger.warn({ resource, err: e }, '%s sampling failed; reporting it as unknown', resource);
      }
      return null;
    } finally {
      this.deps.onDuration?.(resource, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  /** Takes one sample of every resource and pushes it into the window. */
  async tick(): Promise<void> {
    const d = this.deps;
    const [cpu, mem, disk, gpus] = await Promise.all([
      this.timed('cpu', () => d.cpu.sample()),
      this.timed('memory', d.readMemory),
      this.timed('disk', d.readDisk),
      d.gpu === null ? Promise.resolve(null) : this.timed('gpu', () => (d.gpu as GpuSource).read()),
    ]);
    const values = new Map<string, number | null>();
    if (cpu !== null) {
      for (const [core, pct] of cpu) values.set(key.cpu(core), pct);
      this.latest.cores = d.cpu.online;
    }
    if (mem !== null) {
      values.set(key.memUsed, mem.usedBytes);
      values.set(key.memAvail, mem.availableBytes);
      this.latest.memoryTotalBytes = mem.totalBytes;
    }
    if (disk !== null) {
      values.set(key.diskUsed, disk.usedBytes);
      values.set(key.diskAvail, disk.availableBytes);
      this.latest.diskTotalBytes = disk.totalBytes;
    }
    if (gpus !== null) {
      for (const g of gpus) {
        values.set(key.gpu(g.index, 'util'), g.utilizationPct);
        values.set(key.gpu(g.index, 'mem_used'), g.memoryUsedMiB);
        values.set(key.gpu(g.index, 'temp'), g.temperatureC);
        values.set(key.gpu(g.index, 'power'), g.powerDrawW);
      }
      this.latest.gpus = gpus.map((g) => ({ index: g.index, name: g.name, uuid: g.uuid, memoryTotalMiB: g.memoryTotalMiB }));
    }
    d.window.push(d.now(), values);
    this.ticks += 1;
  }
}
