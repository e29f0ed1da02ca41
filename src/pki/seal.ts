/**
 * Sealing the CA key for the database (PostgreSQL replicas): AES-256-GCM with a key derived by scrypt from
 * `pki_seal_key`. The sealed form is JSON {v, salt, iv, tag, data} (base64 fields); a wrong seal key fails
 * authentication instead of yielding garbage.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { PkiError } from './ca.js';

interface Sealed {
  v: 1;
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

function derive(secret: string, salt: Buffer): Buffer {
  return scryptSync(secret, salt, 32, { N: 1 << 14, r: 8, p: 1 });
}

export function seal(plain: string, secret: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', derive(secret, salt), iv);
  const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  const s: Sealed = { v: 1, salt: salt.toString('base64'), iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
  return JSON.stringify(s);
}

export function unseal(sealed: string, secret: string): string {
  let s: Sealed;
  try {
    s = JSON.parse(sealed) as Sealed;
  } catch {
    throw new PkiError('the CA key stored in the database is not in the sealed format');
  }
  try {
    const d = createDecipheriv('aes-256-gcm', derive(secret, Buffer.from(s.salt, 'base64')), Buffer.from(s.iv, 'base64'));
    d.setAuthTag(Buffer.from(s.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(s.data, 'base64')), d.final()]).toString('utf8');
  } catch {
    throw new PkiError('pki_seal_key: cannot unseal the CA key stored in the database (a different pki_seal_key than the replica that created the CA?)');
  }
}
