/**
 * What `vantage agent --once --print` says about the identity and location it printed: a dry run writes no
 * state file and asks no geolocation service, so it names where each value came from, or what a real run
 * would do instead. Pure.
 */
import type { GeoConfig } from './geo/index.js';
import type { PeekedClientId } from './reporter/identity.js';
import type { Location } from './reporter/payload.js';

export interface DryRunNotes {
  /** Nothing was written and nothing but this machine was read; no server or service was contacted. */
  changed: 'nothing';
  client_id: string;
  location: string;
}

export function dryRunNotes(cfg: GeoConfig, id: PeekedClientId, loc: Location): DryRunNotes {
  const client_id =
    id.source === 'config'
      ? 'from client_id'
      : id.source === 'state'
        ? `from ${id.file}`
        : `none saved yet: this id is random and was not saved; the first real run generates one and keeps it in ${id.file}`;
  let location: string;
  if (loc.source === 'config') location = 'from latitude/longitude';
  else if (loc.source === 'mmdb') location = `from the GeoIP database ${cfg.geoip_db_path} (public IP ${loc.publicIp})`;
  else if (cfg.skip_geolocation) location = 'unknown: skip_geolocation is set';
  else {
    const realRun = cfg.geoip_db_path !== '' && loc.publicIp === '' ? 'discover the public IP and look it up in the GeoIP database, then ask ipapi.co' : 'ask ipapi.co';
    location = `not looked up: a dry run contacts no geolocation service (a real run would ${realRun})`;
  }
  return { changed: 'nothing', client_id, location };
}
