/**
 * What a check does: the monitor fields a worker needs to run one check.
 * One schema (CheckSpecSchema) validates it at monitor creation and again when
 * a job reaches the agent. Pure: no I/O.
 *
 * URL forms per type:
 *   http  http://host[:port]/path, https://…
 *   tcp   tcp://host:port
 *   dns   dns://name            (options.record_type A|AAAA|CNAME|MX|TXT, options.resolver "ip[:port]")
 *   tls   tls://host[:port] (default 443), or https://host[:port]/…
 */
import { isIP } from 'node:net';
import { z } from 'zod';

export const CHECK_TYPES = ['http', 'tcp', 'dns', 'tls'] as const;
export const CheckTypeSchema = z.enum(CHECK_TYPES);
export type CheckType = z.output<typeof CheckTypeSchema>;

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT'] as const;
export const DnsRecordTypeSchema = z.enum(DNS_RECORD_TYPES);
export type DnsRecordType = z.output<typeof DnsRecordTypeSchema>;

export const DEFAULT_TIMEOUT_MS = 10_000;
export const MAX_TIMEOUT_MS = 120_000;
export const MAX_REDIRECTS = 5;
export const MAX_REQUEST_BODY = 64 * 1024;

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

const HeaderNameRe = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export const CheckOptionsSchema = z.strictObject({
  follow_redirects: z.boolean().default(false),
  tls_verify: z.boolean().default(true),
  record_type: DnsRecordTypeSchema.default('A'),
  resolver: z
    .string()
    .refine((s) => parseResolver(s) !== null, 'resolver must be "ip" or "ip:port" (IPv6 as "[ip]:port")')
    .optional(),
  expected_san: z.string().min(1).max(253).optional(),
});
export type CheckOptions = z.output<typeof CheckOptionsSchema>;

export const CheckSpecSchema = z
  .strictObject({
    type: CheckTypeSchema.default('http'),
    url: z.string().min(1).max(2048),
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(HTTP_METHODS))
      .default('GET'),
    headers: z
      .record(z.string().regex(HeaderNameRe, 'not a valid HTTP header name'), z.string().max(8192).regex(/^[^\r\n]*$/, 'header values cannot contain line breaks'))
      .default({}),
    body: z.string().max(MAX_REQUEST_BODY).default(''),
    timeout_ms: z.number().int().min(1).max(MAX_TIMEOUT_MS).default(DEFAULT_TIMEOUT_MS),
    options: CheckOptionsSchema.default({ follow_redirects: false, tls_verify: true, record_type: 'A' }),
  })
  .superRefine((spec, ctx) => {
    const err = targetError(spec.type, spec.url);
    if (err !== null) ctx.addIssue({ code: 'custom', path: ['url'], message: err });
  });

export type CheckSpec = z.output<typeof CheckSpecSchema>;
export type CheckSpecInput = z.input<typeof CheckSpecSchema>;

export type CheckTarget =
  | { type: 'http'; url: URL }
  | { type: 'tcp'; host: string; port: number }
  | { type: 'dns'; name: string }
  | { type: 'tls'; host: string; port: number };

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function parseUrl(s: string): URL | null {
  try {
    return new URL(s);
  } catch {
    return null;
  }
}

/** Resolve the URL of a spec into what the executor connects to; throws on a malformed target. */
export function checkTarget(type: CheckType, url: string): CheckTarget {
  const u = parseUrl(url);
  if (u === null) throw new Error(`not a valid URL: ${url}`);
  switch (type) {
    case 'http':
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('http checks need an http:// or https:// URL');
      if (u.hostname === '') throw new Error('URL has no host');
      return { type, url: u };
    case 'tcp': {
      if (u.protocol !== 'tcp:') throw new Error('tcp checks need a tcp://host:port URL');
      const host = stripBrackets(u.hostname);
      const port = Number(u.port);
      if (host === '') throw new Error('tcp URL has no host');
      if (u.port === '' || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error('tcp URL needs a port 1-65535');
      return { type, host, port };
    }
    case 'dns': {
      if (u.protocol !== 'dns:') throw new Error('dns checks need a dns://name URL');
      const name = u.hostname.toLowerCase();
      if (name === '' || name.length > 253) throw new Error('dns URL needs a name to resolve');
      if (u.port !== '' || (u.pathname !== '' && u.pathname !== '/')) throw new Error('dns URL is dns://name (set the resolver in options.resolver)');
      return { type, name };
    }
    case 'tls': {
      if (u.protocol !== 'tls:' && u.protocol !== 'https:') throw new Error('tls checks need a tls://host:port or https:// URL');
      const host = stripBrackets(u.hostname);
      if (host === '') throw new Error('tls URL has no host');
      const port = u.port === '' ? 443 : Number(u.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('tls URL port must be 1-65535');
      return { type, host, port };
    }
  }
}

function targetError(type: CheckType, url: string): string | null {
  try {
    checkTarget(type, url);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
