/**
 * Enrollment tokens: `vet_<id>.<secret>` (id 12 chars, secret 32 random bytes base64url). The server keeps the
 * id and sha256(secret) only; the token is printed once when created.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { EnrollmentTokenRecord } from '../store/pki.js';
import { randomId } from '../platform/ids.js';

const TOKEN_RE = /^vet_([A-Za-z0-9]{12})\.([A-Za-z0-9_-]{43})$/;

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function newToken(o: { region: string; ttlMs: number; uses: number; now: number; description?: string }): { token: string; record: EnrollmentTokenRecord } {
  const id = randomId('', 12).replace(/[^A-Za-z0-9]/g, 'x').slice(0, 12).padEnd(12, 'x');
  const secret = randomBytes(32).toString('base64url');
  return {
    token: `vet_${id}.${secret}`,
    record: {
      id,
      secret_hash: hashSecret(secret),
      region: o.region,
      uses_total: o.uses,
      uses_left: o.uses,
      expires_at: o.now + o.ttlMs,
      created_at: o.now,
      description: o.description ?? '',
    },
  };
}

/** Splits a presented token; null when it is not in the token format. */
export function parseToken(token: string): { id: string; secretHash: string } | null {
  const m = TOKEN_RE.exec(token.trim());
  if (!m) return null;
  return { id: m[1]!, secretHash: hashSecret(m[2]!) };
}
