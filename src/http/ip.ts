import { isIPv4, isIPv6 } from 'node:net';
import { parseCidr } from '../config/cidr.js';

/**
 * IP addresses and CIDR matching for the allow-list and trusted proxies.
 *
 * IPv4 addresses are kept as unsigned 32-bit numbers, IPv6 as bigints. An IPv4-mapped IPv6 address
 * (`::ffff:10.1.2.3`, as a dual-stack socket reports IPv4 clients) is treated as the IPv4 address it maps,
 * both when matching and when used as a rate-limit key, so `10.0.0.0/8` covers it.
 */
export type ParsedIp = { family: 4; value: number } | { family: 6; value: bigint };

const MAPPED_PREFIX = 0xffffn << 32n;
const V4_MAPPED_MASK = ~0xffffffffn & ((1n << 128n) - 1n);

function v4ToNumber(text: string): number {
  const parts = text.split('.');
  let n = 0;
  for (const p of parts) n = n * 256 + Number(p);
  return n >>> 0;
}

function v6ToBigint(text: string): bigint {
  let t = text;
  // Embedded dotted quad in the last 32 bits (::ffff:1.2.3.4, ::1.2.3.4): rewrite it as two hex words.
  const lastColon = t.lastIndexOf(':');
  const last = t.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = v4ToNumber(last);
    t = `${t.slice(0, lastColon + 1)}${((v4 >>> 16) & 0xffff).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  let words: number[];
  const dbl = t.indexOf('::');
  if (dbl !== -1) {
    const head = t.slice(0, dbl).split(':').filter((s) => s !== '');
    const rest = t.slice(dbl + 2).split(':').filter((s) => s !== '');
    const fill = 8 - head.length - rest.length;
    words = [...head.map((h) => parseInt(h, 16)), ...new Array<number>(Math.max(fill, 0)).fill(0), ...rest.map((h) => parseInt(h, 16))];
  } else {
    words = t.split(':').map((h) => parseInt(h, 16));
  }
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(w);
  return v;
}

/** Removes brackets and an IPv6 zone id (`fe80::1%eth0`). */
function bare(text: string): string {
  let t = text.trim();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const pct = t.indexOf('%');
  if (pct !== -1 && t.includes(':')) t = t.slice(0, pct);
  return t;
}

/**
 * Parses an IP address; IPv4-mapped IPv6 addresses come back as IPv4. Returns null for anything that is not
 * an address (host names, ports, CIDR suffixes, garbage).
 */
export function parseIp(text: string): ParsedIp | null {
  const t = bare(text);
  if (isIPv4(t)) return { family: 4, value: v4ToNumber(t) };
  if (!isIPv6(t)) return null;
  const v = v6ToBigint(t);
  if ((v & V4_MAPPED_MASK) === MAPPED_PREFIX) return { family: 4, value: Number(v & 0xffffffffn) };
  return { family: 6, value: v };
}

function v4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * The canonical text of an address: dotted quad for IPv4 (also for IPv4-mapped IPv6), lower-case compressed
 * form for IPv6. Used as the rate-limit key, so one client is one bucket however its address is spelled.
 * Returns null when `text` is not an address.
 */
export function canonicalIp(text: string): string | null {
  // Fast path: a plain dotted quad as sockets report it.
  if (isIPv4(text)) return text;
  const p = parseIp(text);
  if (!p) return null;
  if (p.family === 4) return v4Text(p.value);
  const words: string[] = [];
  for (let i = 7; i >= 0; i--) words.push(((p.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero words (RFC 5952).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return words.join(':');
  const head = words.slice(0, bestStart).join(':');
  const tail = words.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

interface V4Block {
  net: number;
  mask: number;
}
interface V6Block {
  net: bigint;
  mask: bigint;
}

/** A compiled set of CIDR blocks. `matches` is what the allow-list and trusted-proxy checks call. */
export interface CidrSet {
  readonly size: number;
  /** The entries as configured. */
  readonly entries: readonly string[];
  /** True when `ip` (any spelling, IPv4-mapped IPv6 included) lies in one of the blocks; false for non-addresses. */
  matches(ip: string): boolean;
  matchesParsed(ip: ParsedIp): boolean;
}

/** A configuration entry that is not a CIDR block; `setting` names the key so the message says what to fix. */
export class InvalidCidrError extends Error {
  constructor(
    readonly setting: string,
    readonly entry: string,
  ) {
    super(`${setting}: "${entry}" is not a CIDR range or IP address (expected e.g. "10.0.0.0/8", "2001:db8::/32" or "192.168.1.10")`);
    this.name = 'InvalidCidrError';
  }
}

const V6_ALL = (1n << 128n) - 1n;

/**
 * Compiles CIDR entries ("10.0.0.0/8", "2001:db8::/32", a bare address). An IPv4-mapped IPv6 block
 * (`::ffff:10.0.0.0/104`) is stored as the IPv4 block it covers. Throws InvalidCidrError naming the first bad
 * entry and the setting it came from.
 */
export function compileCidrs(entries: readonly string[], setting = 'whitelisted_ips'): CidrSet {
  const v4: V4Block[] = [];
  const v6: V6Block[] = [];
  for (const entry of entries) {
    const c = parseCidr(entry);
    const ip = c ? parseIp(c.address) : null;
    if (!c || !ip) throw new InvalidCidrError(setting, entry);
    if (c.family === 4 && ip.family === 4) {
      const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
      v4.push({ net: (ip.value & mask) >>> 0, mask });
    } else if (ip.family === 4) {
      // IPv4-mapped IPv6 block: only meaningful for prefixes inside the mapped range.
      if (c.prefix < 96) throw new InvalidCidrError(setting, entry);
      const p = c.prefix - 96;
      const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
      v4.push({ net: (ip.value & mask) >>> 0, mask });
    } else {
      const mask = c.prefix === 0 ? 0n : (V6_ALL << BigInt(128 - c.prefix)) & V6_ALL;
      v6.push({ net: ip.value & mask, mask });
    }
  }
  const matchesParsed = (p: ParsedIp): boolean => {
    if (p.family === 4) {
      for (const b of v4) if (((p.value & b.mask) >>> 0) === b.net) return true;
      return false;
    }
    for (const b of v6) if ((p.value & b.mask) === b.net) return true;
    return false;
  };
  return {
    size: v4.length + v6.length,
    entries: [...entries],
    matchesParsed,
    matches(ip: string): boolean {
      if (v4.length + v6.length === 0) return false;
      const p = parseIp(ip);
      return p !== null && matchesParsed(p);
    },
  };
}
