import { randomBytes, randomInt } from 'node:crypto';

/** Short random ids: a prefix and 16 base32 characters (80 bits). */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export function randomId(prefix: string, chars = 16): string {
  const bytes = randomBytes(chars);
  let out = prefix;
  for (let i = 0; i < chars; i++) out += ALPHABET[bytes[i]! & 31];
  return out;
}

export const newMonitorId = (): string => randomId('mon_', 12);
export const newWorkerId = (): string => randomId('wrk_', 12);
/** Run ids are the results' idempotency key together with event_at: 20 chars, 100 bits. */
export const newRunId = (): string => randomId('', 20);
export const newJitterSeed = (): number => randomInt(0, 0x7fffffff);
