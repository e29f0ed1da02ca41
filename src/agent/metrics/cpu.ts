import { ProcFile } from './proc-file.js';

/** Cumulative jiffies of one logical CPU, as read from one `cpuN` line of /proc/stat. */
export interface CpuTimes {
  /** user + nice + system + idle + iowait + irq + softirq + steal (guest time is already inside user/nice). */
  readonly total: number;
  /** idle + iowait. */
  readonly idle: number;
}

/** Online CPUs by kernel index (offline CPUs have no line, so indexes can have gaps). */
export type CpuTimesByCore = ReadonlyMap<number, CpuTimes>;

const CPU_LINE = /^cpu(\d+)\s+(.*)$/;

/**
 * Parses the per-core lines of /proc/stat. The aggregate `cpu` line and every other
 * line are ignored. Lines with fewer than four numeric fields are skipped.
 */
export function parseProcStat(text: string): Map<number, CpuTimes> {
  const out = new Map<number, CpuTimes>();
  for (const line of text.split('\n')) {
    const m = CPU_LINE.exec(line);
    if (m === null) continue;
    const fields = (m[2] ?? '').trim().split(/\s+/).map(Number);
    if (fields.length < 4 || fields.some((f) => !Number.isFinite(f) || f < 0)) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    out.set(Number(m[1]), {
      total: user + nice + system + idle + iowait + irq + softirq + steal,
      idle: idle + iowait,
    });
  }
  return out;
}

/**
 * Usage % per core between two readings. A core present only in `curr` (hot-plugged in)
 * has no baseline yet and is absent from the result; a core present only in `prev`
 * (unplugged) is dropped. A counter that went backwards (wrap, or the kernel's known
 * iowait decrease) is clamped to a zero delta; when no time elapsed for a core its usage
 * is unknown (`null`), never 0.
 */
export function cpuUsage(prev: CpuTimesByCore, curr: CpuTimesByCore): Map<number, number | null> {
  const out = new Map<number, number | null>();
  for (const [core, c] of curr) {
    const p = prev.get(core);
    if (p === undefined) continue;
    const dTotal = c.total - p.total;
    const dIdle = Math.max(0, c.idle - p.idle);
    if (!(dTotal > 0) || dIdle > dTotal) {
      out.set(core, dTotal > 0 ? 0 : null);
      continue;
    }
    const pct = ((dTotal - dIdle) / dTotal) * 100;
    out.set(core, Math.min(100, Math.max(0, pct)));
  }
  return out;
}

/** A reader of a /proc file through one persistent descriptor (see ProcFile). */
export function procReader(path: string): () => string {
  const f = new ProcFile(path);
  return () => f.read();
}

/** Samples per-core usage from successive /proc/stat reads. */
export class CpuSampler {
  private prev: CpuTimesByCore | null = null;

  constructor(private readonly read: () => Promise<string> | string = procReader('/proc/stat')) {}

  /** Returns usage since the previous call; the first call only takes the baseline and returns an empty map. */
  async sample(): Promise<Map<number, number | null>> {
    const curr = parseProcStat(await this.read());
    const prev = this.prev;
    this.prev = curr;
    return prev === null ? new Map() : cpuUsage(prev, curr);
  }

  /** Online core indexes at the last read, ascending (empty before the first). */
  get online(): number[] {
    return this.prev === null ? [] : [...this.prev.keys()].sort((a, b) => a - b);
  }
}
