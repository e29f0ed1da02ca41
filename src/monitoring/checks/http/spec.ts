/** The http check's options and target: http://host[:port]/path or https://…. Pure: no I/O. */
import { z } from 'zod';
import { tlsVerifyOption } from '../tls/spec.js';

export const MAX_REDIRECTS = 5;

export const httpOptions = {
  follow_redirects: z.boolean().default(false),
  tls_verify: tlsVerifyOption,
};
export type HttpOptions = z.output<z.ZodObject<typeof httpOptions>>;

export interface HttpTarget {
  type: 'http';
  url: URL;
}

export function httpTarget(u: URL): HttpTarget {
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('http checks need an http:// or https:// URL');
  if (u.hostname === '') throw new Error('URL has no host');
  return { type: 'http', url: u };
}
