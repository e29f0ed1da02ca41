/**
 * A tiny MaxMind DB (MMDB v2) writer for tests: IPv4 search tree, 32-bit records, and the
 * data types a GeoLite2-City record needs. Spec: https://maxmind.github.io/MaxMind-DB/
 */
import { writeFileSync } from 'node:fs';

export type MmdbValue = string | number | boolean | MmdbValue[] | { [k: string]: MmdbValue } | { double: number };

function ctrl(type: number, size: number): Buffer {
  const parts: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 29 + 256) {
    sizeBits = 29;
    extra.push(size - 29);
  } else if (size < 285 + 65536) {
    sizeBits = 30;
    const v = size - 285;
    extra.push(v >> 8, v & 0xff);
  } else {
    sizeBits = 31;
    const v = size - 65821;
    extra.push((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
  }
  if (type <= 7) parts.push((type << 5) | sizeBits);
  else parts.push(sizeBits, type - 7);
  return Buffer.from([...parts, ...extra]);
}

function uint(type: number, value: number | bigint): Buffer {
  let v = BigInt(value);
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Buffer.concat([ctrl(type, bytes.length), Buffer.from(bytes)]);
}

export function encode(value: MmdbValue): Buffer {
  if (typeof value === 'string') {
    const b = Buffer.from(value, 'utf8');
    return Buffer.concat([ctrl(2, b.length), b]);
  }
  if (typeof value === 'boolean') return ctrl(14, value ? 1 : 0);
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) return encode({ double: value });
    return value <= 0xffffffff ? uint(6, value) : uint(9, value);
  }
  if (Array.isArray(value)) return Buffer.concat([ctrl(11, value.length), ...value.map(encode)]);
  if ('double' in value && typeof value.double === 'number' && Object.keys(value).length === 1) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(value.double);
    return Buffer.concat([ctrl(3, 8), b]);
  }
  const entries = Object.entries(value);
  return Buffer.concat([ctrl(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}

interface Node {
  kids: [Node | number | null, Node | number | null]; // number = data offset
}

export interface MmdbNetwork {
  /** IPv4 network in CIDR form, e.g. "203.0.113.0/24". */
  cidr: string;
  data: MmdbValue;
}

/** Builds an IPv4 MMDB holding `networks`. */
export function buildMmdb(networks: MmdbNetwork[], databaseType = 'GeoLite2-City'): Buffer {
  const root: Node = { kids: [null, null] };
  const data: Buffer[] = [];
  let dataLen = 0;
  for (const n of networks) {
    const [addr = '', bitsText = '32'] = n.cidr.split('/');
    const bits = Number(bitsText);
    const ip = addr.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
    const offset = dataLen;
    const enc = encode(n.data);
    data.push(enc);
    dataLen += enc.length;
    let node = root;
    for (let i = 0; i < bits; i++) {
      const bit = ((ip >>> (31 - i)) & 1) as 0 | 1;
      if (i === bits - 1) {
        node.kids[bit] = offset;
      } else {
        let next = node.kids[bit];
        if (next === null || typeof next === 'number') {
          next = { kids: [null, null] };
          node.kids[bit] = next;
        }
        node = next;
      }
    }
  }
  // Number nodes breadth-first.
  const order: Node[] = [];
  const index = new Map<Node, number>();
  const queue: Node[] = [root];
  while (queue.length > 0) {
    const n = queue.shift() as Node;
    index.set(n, order.length);
    order.push(n);
    for (const k of n.kids) if (k !== null && typeof k !== 'number') queue.push(k);
  }
  const nodeCount = order.length;
  const tree = Buffer.alloc(nodeCount * 8);
  order.forEach((n, i) => {
    n.kids.forEach((k, side) => {
      const rec = k === null ? nodeCount : typeof k === 'number' ? nodeCount + 16 + k : (index.get(k) as number);
      tree.writeUInt32BE(rec, i * 8 + side * 4);
    });
  });
  const metadata = encode({
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: Math.floor(Date.now() / 1000),
    database_type: databaseType,
    description: { en: 'Vantage test database' },
    ip_version: 4,
    languages: ['en'],
    node_count: nodeCount,
    record_size: 32,
  });
  return Buffer.concat([
    tree,
    Buffer.alloc(16),
    ...data,
    Buffer.from([0xab, 0xcd, 0xef]),
    Buffer.from('MaxMind.com', 'ascii'),
    metadata,
  ]);
}

/** A GeoLite2-City-shaped record. */
export function cityRecord(o: { lat: number; lon: number; city: string; country: string; iso: string }): MmdbValue {
  return {
    city: { geoname_id: 1, names: { en: o.city } },
    country: { geoname_id: 2, iso_code: o.iso, names: { en: o.country } },
    location: { accuracy_radius: 10, latitude: { double: o.lat }, longitude: { double: o.lon } },
  };
}

export function writeMmdb(path: string, networks: MmdbNetwork[]): void {
  writeFileSync(path, buildMmdb(networks));
}
