import { access } from 'node:fs/promises';
import maxmind, { type CityResponse, type Reader } from 'maxmind';
import type { Logger } from 'pino';

export interface GeoLookup {
  /** Location of an IP address, or null when unknown. */
  locate(ip: string): { lat: number; lon: number } | null;
}

/** Wraps an opened reader (exported for tests that build their own .mmdb). */
export function geoLookupFrom(reader: Reader<CityResponse>): GeoLookup {
  return {
    locate(ip) {
      try {
        const loc = reader.get(ip)?.location;
        if (loc && Number.isFinite(loc.latitude) && Number.isFinite(loc.longitude)) return { lat: loc.latitude, lon: loc.longitude };
      } catch {
        // invalid address: unknown
      }
      return null;
    },
  };
}

/**
 * Opens the GeoLite2-City database once (not per lookup) and lets maxmind reload it when the file changes.
 * An empty path means GeoIP is off; a missing or unreadable file logs a warning and turns the distance term
 * off for requests that give only client_ip (explicit client_lat/client_lon still work).
 */
export async function openGeoIp(path: string, logger: Logger): Promise<GeoLookup | null> {
  if (path === '') return null;
  try {
    await access(path);
    const reader = await maxmind.open<CityResponse>(path, { watchForUpdates: true, watchForUpdatesNonPersistent: true });
    return geoLookupFrom(reader);
  } catch (err) {
    logger.warn(
      { geoip_db_path: path, err: err instanceof Error ? err.message : String(err) },
      'GeoIP database unavailable: client_ip will not be located (distance term off unless client_lat/client_lon are given)',
    );
    return null;
  }
}
