import { randomBytes, randomInt } from 'node:crypto';

/** Ids are lowercase base32 (RFC 4648 alphabet, lowercased), so they sort and compare as plain strings. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

let pool = randomBytes(4096);
let poolPos = 0;
function randomByte(): number {
  if (poolPos >= pool.length) {
    pool = randomBytes(4096);
    poolPos = 0;
  }
  return pool[poolPos++]!;
}

export function randomId(prefix: string, chars = 16): string {
  let out = prefix;
  for (let i = 0; i < chars; i++) out += ALPHABET[randomByte() & 31];
  return out;
}

/** 10 base32 characters of a millisecond timestamp (50 bits), sortable. */
function timePart(ms: number): string {
  let out = '';
  let v = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[v % 32]! + out;
    v = Math.floor(v / 32);
  }
  return out;
}

export const newMonitorId = (): string => randomId('mon_', 12);
export const newWorkerId = (): string => randomId('wrk_', 12);
/**
 * Run ids (20 chars): creation time then 50 random bits, ULID style. Time order keeps the B-tree inserts of
 * jobs and results near the end of their indexes, so a batch of writes touches few pages.
 */
export const newRunId = (now: number = Date.now()): string => timePart(now) + randomId('', 10);
export const newJitterSeed = (): number => randomInt(0, 0x7fffffff);
