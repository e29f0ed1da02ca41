import { statfs } from 'node:fs/promises';

/** Disk figures in bytes, as `df` reports them: used = blocks − free; available = blocks free to unprivileged users. */
export interface DiskSample {
  readonly totalBytes: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
}

/** The statfs fields the calculation needs (bigint or number). */
export interface StatfsLike {
  readonly bsize: number | bigint;
  readonly blocks: number | bigint;
  readonly bfree: number | bigint;
  readonly bavail: number | bigint;
}

export function diskFromStatfs(s: StatfsLike): DiskSample {
  const bsize = BigInt(s.bsize);
  const blocks = BigInt(s.blocks);
  const bfree = BigInt(s.bfree);
  const bavail = BigInt(s.bavail);
  return {
    totalBytes: Number(blocks * bsize),
    usedBytes: Number((blocks > bfree ? blocks - bfree : 0n) * bsize),
    availableBytes: Number(bavail * bsize),
  };
}

export async function readDisk(path: string): Promise<DiskSample> {
  return diskFromStatfs(await statfs(path, { bigint: true }));
}
