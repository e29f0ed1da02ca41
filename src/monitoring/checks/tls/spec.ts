/** The tls check's options and target: tls://host[:port] (default 443) or https://host[:port]/…. Pure: no I/O. */
import { z } from 'zod';
import { urlHost, validPort } from '../definition.js';

/** Whether the certificate chain and name must verify (read by the http and tls types). */
export const tlsVerifyOption = z.boolean().default(true);

export const tlsOptions = {
  tls_verify: tlsVerifyOption,
  expected_san: z.string().min(1).max(253).optional(),
};
export type TlsOptions = z.output<z.ZodObject<typeof tlsOptions>>;

export interface TlsTarget {
  type: 'tls';
  host: string;
  port: number;
}

export function tlsTarget(u: URL): TlsTarget {
  if (u.protocol !== 'tls:' && u.protocol !== 'https:') throw new Error('tls checks need a tls://host:port or https:// URL');
  const host = urlHost(u);
  if (host === '') throw new Error('tls URL has no host');
  const port = u.port === '' ? 443 : Number(u.port);
  if (!validPort(port)) throw new Error('tls URL port must be 1-65535');
  return { type: 'tls', host, port };
}
