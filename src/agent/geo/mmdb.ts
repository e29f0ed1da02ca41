import type { CityResponse } from 'maxmind';

export interface MmdbLocation {
  latitude: number;
  longitude: number;
  country: string;
  city: string;
}

/**
 * Looks `ip` up in a GeoLite2-City-shaped database. Resolves `null` when the address is not
 * in the database or its record has no coordinates; rejects when the file cannot be opened.
 */
export async function lookupMmdb(dbPath: string, ip: string): Promise<MmdbLocation | null> {
  // Loaded on demand: most agents have no GeoIP database and should not pay for the module.
  const maxmind = (await import('maxmind')).default;
  const reader = await maxmind.open<CityResponse>(dbPath);
  const rec = reader.get(ip);
  const lat = rec?.location?.latitude;
  const lon = rec?.location?.longitude;
  if (rec === null || typeof lat !== 'number' || typeof lon !== 'number') return null;
  return {
    latitude: lat,
    longitude: lon,
    country: rec.country?.names.en ?? rec.registered_country?.names.en ?? '',
    city: rec.city?.names.en ?? '',
  };
}
