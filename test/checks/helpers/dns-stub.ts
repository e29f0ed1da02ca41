/**
 * A tiny authoritative DNS server over UDP (node:dgram) for tests: answers
 * A/AAAA/CNAME/MX/TXT from a fixed zone, NXDOMAIN for unknown names, and can be
 * told to stay silent (to test resolver timeouts).
 */
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface ZoneEntry {
  A?: string[];
  AAAA?: string[];
  CNAME?: string;
  MX?: Array<{ priority: number; exchange: string }>;
  TXT?: string[][];
}

export interface DnsStub {
  port: number;
  address: string;
  /** number of queries received */
  queries(): number;
  setSilent(silent: boolean): void;
  close(): Promise<void>;
}

const TYPE = { A: 1, CNAME: 5, MX: 15, TXT: 16, AAAA: 28 } as const;

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter((p) => p !== '');
  const bufs = parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')]));
  return Buffer.concat([...bufs, Buffer.from([0])]);
}

function ipv6Bytes(addr: string): Buffer {
  const [head = '', tail] = addr.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

function rr(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // pointer to the question name
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(60, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

function answers(entry: ZoneEntry, qtype: number): Buffer[] {
  switch (qtype) {
    case TYPE.A:
      return (entry.A ?? []).map((ip) => rr(TYPE.A, Buffer.from(ip.split('.').map(Number))));
    case TYPE.AAAA:
      return (entry.AAAA ?? []).map((ip) => rr(TYPE.AAAA, ipv6Bytes(ip)));
    case TYPE.CNAME:
      return entry.CNAME ? [rr(TYPE.CNAME, encodeName(entry.CNAME))] : [];
    case TYPE.MX:
      return (entry.MX ?? []).map((m) => {
        const pref = Buffer.alloc(2);
        pref.writeUInt16BE(m.priority, 0);
        return rr(TYPE.MX, Buffer.concat([pref, encodeName(m.exchange)]));
      });
    case TYPE.TXT:
      return (entry.TXT ?? []).map((chunks) =>
        rr(TYPE.TXT, Buffer.concat(chunks.map((c) => Buffer.concat([Buffer.from([Buffer.byteLength(c)]), Buffer.from(c)])))),
      );
    default:
      return [];
  }
}

export async function startDnsStub(zone: Record<string, ZoneEntry>): Promise<DnsStub> {
  const sock = createSocket('udp4');
  let count = 0;
  let silent = false;
  const lower = new Map(Object.entries(zone).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  sock.on('message', (msg, rinfo) => {
    count++;
    if (silent || msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const flags = msg.readUInt16BE(2);
    // question name
    let i = 12;
    const labels: string[] = [];
    while (i < msg.length) {
      const len = msg[i] as number;
      i++;
      if (len === 0) break;
      labels.push(msg.subarray(i, i + len).toString('ascii'));
      i += len;
    }
    const qtype = msg.readUInt16BE(i);
    const question = msg.subarray(12, i + 4);
    const entry = lower.get(labels.join('.').toLowerCase());
    const ans = entry ? answers(entry, qtype) : [];
    const rcode = entry ? 0 : 3;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    header.writeUInt16BE(0x8400 | (flags & 0x0100) | 0x0080 | rcode, 2); // QR, AA, RD copied, RA
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(ans.length, 6);
    sock.send(Buffer.concat([header, question, ...ans]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const addr = sock.address() as AddressInfo;
  return {
    port: addr.port,
    address: addr.address,
    queries: () => count,
    setSilent: (s) => {
      silent = s;
    },
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
