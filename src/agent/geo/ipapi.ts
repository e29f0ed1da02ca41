import { isIP } from 'node:net';
import { httpFetch } from '../http.js';
import { z } from 'zod';

export const IPAPI_BASE_URL = 'https://ipapi.co';

/** The fields of an ipapi.co `/json/` answer the agent uses; an error answer has `error: true`. */
export const IpapiResponseSchema = z
  .object({
    ip: z.string().optional(),
    latitude: z.number().min(-90).max(90).nullable().optional(),
    longitude: z.number().min(-180).max(180).nullable().optional(),
    city: z.string().nullable().optional(),
    country_name: z.string().nullable().optional(),
    error: z.boolean().optional(),
    reason: z.string().optional(),
  })
  .loose();

export interface IpapiLocation {
  ip: string;
  latitude: number;
  longitude: number;
  country: string;
  city: string;
}

async function get(url: string, signal: AbortSignal): Promise<string> {
  const res = await httpFetch({ url, method: 'GET', signal, headers: { 'user-agent': 'vantage-agent', accept: 'application/json' } });
  if (res.status !== 200) throw new Error(`${url} answered HTTP ${res.status}`);
  return res.text;
}

/** Locates `ip` (or, when '', the caller's own public address) through ipapi.co. Rejects with the reason on any failure. */
export async function lookupIpapi(ip: string, signal: AbortSignal, baseUrl = IPAPI_BASE_URL): Promise<IpapiLocation> {
  const base = baseUrl.replace(/\/+$/, '');
  const url = ip === '' ? `${base}/json/` : `${base}/${encodeURIComponent(ip)}/json/`;
  let json: unknown;
  try {
    json = JSON.parse(await get(url, signal));
  } catch (e) {
    throw new Error(e instanceof SyntaxError ? `${url} did not answer JSON` : (e as Error).message);
  }
  const parsed = IpapiResponseSchema.safeParse(json);
  if (!parsed.success) throw new Error(`unexpected ipapi.co answer: ${parsed.error.issues[0]?.message ?? ''}`);
  const r = parsed.data;
  if (r.error === true) throw new Error(`ipapi.co error: ${r.reason ?? 'unknown'}`);
  if (typeof r.latitude !== 'number' || typeof r.longitude !== 'number') throw new Error('ipapi.co gave no coordinates');
  return { ip: r.ip ?? ip, latitude: r.latitude, longitude: r.longitude, country: r.country_name ?? '', city: r.city ?? '' };
}

/** This host's public address as ipapi.co sees it (`/ip/`). */
export async function discoverPublicIp(signal: AbortSignal, baseUrl = IPAPI_BASE_URL): Promise<string> {
  const ip = (await get(`${baseUrl.replace(/\/+$/, '')}/ip/`, signal)).trim();
  if (isIP(ip) === 0) throw new Error(`public IP discovery answered something that is not an address`);
  return ip;
}
