/**
 * The first-run setup link: on a server with no users, one random token (valid once, for 1 h) is stored by
 * hash and printed in the startup log as `<web base URL>/setup?token=<token>`. Using it creates the first admin;
 * nothing else can create a user without an admin (or the `vantage user add` command on the server's database).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { UserStore } from '../store/users.js';

export const SETUP_TOKEN_TTL_MS = 3_600_000;

export const hashSetupToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Issues a setup token when the store has no user; null when users exist. */
export async function issueSetupToken(store: UserStore, now: number): Promise<{ token: string; expiresAt: number } | null> {
  if ((await store.countUsers()) > 0) return null;
  const token = randomBytes(24).toString('base64url');
  const expiresAt = now + SETUP_TOKEN_TTL_MS;
  await store.createSetupToken(hashSetupToken(token), expiresAt, now);
  return { token, expiresAt };
}
