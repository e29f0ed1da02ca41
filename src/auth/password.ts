/**
 * Password hashing with scrypt from node:crypto (no native dependency): `scrypt$N$r$p$<salt>$<key>`, base64url,
 * N=2^15, r=8, p=1 (32 MiB per hash; bench:auth measured 360 ms p50 on a loaded, shared 2-core box), 16-byte
 * salt, 32-byte key. OWASP's minimum for scrypt is N=2^17 with r=8; N=2^15 keeps a small box responsive under
 * a burst of sign-ins, and the throttle (login-throttle.ts) bounds guessing. Stored parameters are read back, so they can be raised later without invalidating hashes.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LEN = 32;

/** Length rules for new passwords (the message names the field). */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const memFor = (n: number, r: number) => 128 * n * r * 2;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, { N, r: R, p: P, maxmem: memFor(N, R) });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True when `password` matches `stored`; false for a malformed hash (never throws on bad input). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((v) => Number.isInteger(v) && v > 0) || n > 1 << 20) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length === 0) return false;
  const key = await scrypt(password, salt, expected.length, { N: n, r, p, maxmem: memFor(n, r) });
  return timingSafeEqual(key, expected);
}

/** A hash of a random password: compared against when a username does not exist, so timing does not tell. */
let decoy: Promise<string> | null = null;
export function decoyHash(): Promise<string> {
  return (decoy ??= hashPassword(randomBytes(16).toString('hex')));
}

/** Why a new password is refused, or null. */
export function passwordProblem(field: string, password: string): string | null {
  if (password.length < PASSWORD_MIN) return `${field}: expected at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `${field}: expected at most ${PASSWORD_MAX} characters`;
  return null;
}

/** Why a username is refused, or null: 1–64 characters of letters, digits, ".", "_", "-" and "@". */
export function usernameProblem(field: string, username: string): string | null {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(username)) return `${field}: expected 1 to 64 letters, digits or . _ - @`;
  return null;
}
