import type { Logger } from 'pino';
import type { Location } from '../reporter/payload.js';
import { discoverPublicIp, IPAPI_BASE_URL, lookupIpapi } from './ipapi.js';
import { isPublicIp } from './ip.js';
import { lookupMmdb } from './mmdb.js';

export { isPublicIp, discoverLocalIp } from './ip.js';

export interface GeoConfig {
  latitude: number | null;
  longitude: number | null;
  skip_geolocation: boolean;
  geoip_db_path: string;
  public_ip: string;
  geolocation_timeout_ms: number;
}

export interface GeoDeps {
  logger: Logger;
  /** The LAN address in use; used as the public address only when it is itself public. */
  localIp: string;
  /** ipapi.co base URL (tests point it at a local server). */
  ipapiBaseUrl?: string;
  /**
   * Contact no service (a dry run): explicit coordinates and a GeoIP database lookup of an already known
   * public IP still apply; discovering the public IP and asking ipapi.co are skipped.
   */
  offline?: boolean;
}

const unknown = (publicIp: string): Location => ({
  latitude: null,
  longitude: null,
  country: '',
  city: '',
  publicIp,
  source: 'none',
});

/**
 * Finds this host's location, in order: explicit `latitude`/`longitude`; nothing when
 * `skip_geolocation`; the GeoLite2 database at `geoip_db_path` applied to the configured or
 * discovered public IP (never a private LAN address); ipapi.co. Network steps share one
 * deadline of `geolocation_timeout_ms`. Never rejects: every failure logs why and leaves
 * the location unknown.
 */
export async function resolveLocation(cfg: GeoConfig, deps: GeoDeps): Promise<Location> {
  const log = deps.logger;
  const base = deps.ipapiBaseUrl ?? IPAPI_BASE_URL;
  let publicIp = '';
  if (cfg.public_ip !== '') {
    if (isPublicIp(cfg.public_ip)) publicIp = cfg.public_ip;
    else log.warn({ public_ip: cfg.public_ip }, 'configured public_ip is not a public address; ignoring it');
  } else if (isPublicIp(deps.localIp)) publicIp = deps.localIp;

  if (cfg.latitude !== null && cfg.longitude !== null) {
    return { latitude: cfg.latitude, longitude: cfg.longitude, country: '', city: '', publicIp, source: 'config' };
  }
  if (cfg.skip_geolocation) {
    log.info('geolocation skipped (skip_geolocation); location unknown');
    return unknown(publicIp);
  }

  const deadline = AbortSignal.timeout(cfg.geolocation_timeout_ms);
  if (cfg.geoip_db_path !== '') {
    if (publicIp === '' && deps.offline !== true) {
      try {
        publicIp = await discoverPublicIp(deadline, base);
      } catch (e) {
        log.warn({ reason: (e as Error).message }, 'cannot discover the public IP for the GeoIP lookup');
      }
    }
    if (publicIp !== '') {
      try {
        const hit = await lookupMmdb(cfg.geoip_db_path, publicIp);
        if (hit !== null) return { ...hit, publicIp, source: 'mmdb' };
        log.warn({ ip: publicIp, db: cfg.geoip_db_path }, 'public IP not found in the GeoIP database');
      } catch (e) {
        log.warn({ db: cfg.geoip_db_path, reason: (e as Error).message }, 'cannot read the GeoIP database');
      }
    }
  }
  if (deps.offline === true) {
    log.info('dry run: no geolocation service asked; location unknown');
    return unknown(publicIp);
  }
  if (deadline.aborted) {
    log.warn({ timeoutMs: cfg.geolocation_timeout_ms }, 'geolocation timed out; location unknown');
    return unknown(publicIp);
  }
  try {
    const hit = await lookupIpapi(publicIp, deadline, base);
    const ip = publicIp !== '' ? publicIp : isPublicIp(hit.ip) ? hit.ip : '';
    const { latitude, longitude, country, city } = hit;
    return { latitude, longitude, country, city, publicIp: ip, source: 'ipapi' };
  } catch (e) {
    const reason = deadline.aborted ? `timed out after ${cfg.geolocation_timeout_ms} ms` : (e as Error).message;
    log.warn({ reason }, 'ipapi.co geolocation failed; location unknown');
    return unknown(publicIp);
  }
}
