import { ProcFile } from './proc-file.js';

/** Memory figures in bytes. `used` = total − available, the figure `free` shows as "used" plus caches it cannot reclaim. */
export interface MemorySample {
  readonly totalBytes: number;
  readonly availableBytes: number;
  readonly usedBytes: number;
}

/**
 * Parses /proc/meminfo. Uses `MemAvailable` (kernel ≥ 3.14); on older kernels it
 * estimates available as MemFree + Buffers + Cached + SReclaimable. Throws when
 * `MemTotal` is missing or zero (a report with zero memory is rejected by the server).
 */
export function parseMeminfo(text: string): MemorySample {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const value = Number.parseInt(line.slice(colon + 1).trim(), 10);
    if (Number.isFinite(value) && value >= 0) kb.set(line.slice(0, colon), value);
  }
  const total = kb.get('MemTotal');
  if (total === undefined || total === 0) throw new Error('/proc/meminfo has no MemTotal');
  let avail = kb.get('MemAvailable');
  if (avail === undefined) {
    avail =
      (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0) + (kb.get('SReclaimable') ?? 0);
  }
  avail = Math.min(avail, total);
  return { totalBytes: total * 1024, availableBytes: avail * 1024, usedBytes: (total - avail) * 1024 };
}

/** Returns a reader of `path` (default /proc/meminfo) that keeps the file open between samples. */
export function memoryReader(path = '/proc/meminfo'): () => Promise<MemorySample> {
  const f = new ProcFile(path);
  return async () => parseMeminfo(f.read());
}

export async function readMemory(path = '/proc/meminfo'): Promise<MemorySample> {
  const f = new ProcFile(path);
  try {
    return parseMeminfo(f.read());
  } finally {
    f.close();
  }
}
