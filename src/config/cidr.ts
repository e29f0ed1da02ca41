import { isIP } from 'node:net';

/** A parsed CIDR block (or a single address, as /32 or /128). */
export interface Cidr {
  family: 4 | 6;
  address: string;
  prefix: number;
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a bare address; returns null when invalid. */
export function parseCidr(text: string): Cidr | null {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash === -1 ? t : t.slice(0, slash);
  const fam = isIP(addr);
  if (fam === 0) return null;
  const max = fam === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  return { family: fam as 4 | 6, address: addr, prefix };
}

export const isCidr = (text: string): boolean => parseCidr(text) !== null;
