/**
 * The dns check's options and target: dns://name, with options.record_type A|AAAA|CNAME|MX|TXT and
 * options.resolver "ip[:port]". Pure: no I/O.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { DnsRecordTypeSchema } from './record-types.js';

/** `ip`, `ip:port`, `[ipv6]:port` → { host, port }; null if malformed. */
export function parseResolver(s: string): { host: string; port: number } | null {
  let host = s;
  let port = 53;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1] as string;
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (isIP(s) === 0) {
    const i = s.lastIndexOf(':');
    if (i <= 0) return null;
    host = s.slice(0, i);
    port = Number(s.slice(i + 1));
  }
  if (isIP(host) === 0) return null;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

export const dnsOptions = {
  record_type: DnsRecordTypeSchema.default('A'),
  resolver: z
    .string()
    .refine((s) => parseResolver(s) !== null, 'resolver must be "ip" or "ip:port" (IPv6 as "[ip]:port")')
    .optional(),
};

export interface DnsTarget {
  type: 'dns';
  name: string;
}

export function dnsTarget(u: URL): DnsTarget {
  if (u.protocol !== 'dns:') throw new Error('dns checks need a dns://name URL');
  const name = u.hostname.toLowerCase();
  if (name === '' || name.length > 253) throw new Error('dns URL needs a name to resolve');
  if (u.port !== '' || (u.pathname !== '' && u.pathname !== '/')) throw new Error('dns URL is dns://name (set the resolver in options.resolver)');
  return { type: 'dns', name };
}
