import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import maxmind from 'maxmind';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discoverLocalIp, isPublicIp, resolveLocation } from '../../src/agent/geo/index.js';
import type { GeoConfig } from '../../src/agent/geo/index.js';
import { lookupMmdb } from '../../src/agent/geo/mmdb.js';
import { captureLogger } from './helpers.js';
import { json, scriptedServer } from './http-helpers.js';
import { cityRecord, writeMmdb } from './mmdb-writer.js';

let dir: string;
let db: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-geo-'));
  db = join(dir, 'GeoLite2-City.mmdb');
  writeMmdb(db, [
    { cidr: '203.0.113.0/24', data: cityRecord({ lat: 48.8566, lon: 2.3522, city: 'Paris', country: 'France', iso: 'FR' }) },
    { cidr: '198.51.100.7/32', data: cityRecord({ lat: -33.8688, lon: 151.2093, city: 'Sydney', country: 'Australia', iso: 'AU' }) },
    { cidr: '192.168.1.0/24', data: cityRecord({ lat: 1, lon: 1, city: 'LAN', country: 'Nowhere', iso: 'ZZ' }) },
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const base: GeoConfig = {
  latitude: null,
  longitude: null,
  skip_geolocation: false,
  geoip_db_path: '',
  public_ip: '',
  geolocation_timeout_ms: 2000,
};

/** A local stand-in for ipapi.co: /ip/ and /{ip}/json/ and /json/. */
async function ipapi(opts: { ip?: string; hang?: boolean; answer?: unknown } = {}) {
  const srv = await scriptedServer((req, res) => {
    if (opts.hang === true) return;
    if (req.path === '/ip/') return void res.end(opts.ip ?? '203.0.113.77');
    if (opts.answer !== undefined) return json(res, 200, opts.answer);
    const m = /^\/(?:([^/]+)\/)?json\/$/.exec(req.path);
    const ip = m?.[1] ?? opts.ip ?? '203.0.113.77';
    json(res, 200, { ip, latitude: 40.7128, longitude: -74.006, city: 'New York', country_name: 'United States' });
  });
  cleanups.push(srv.close);
  return srv;
}

describe('the test MMDB writer', () => {
  it('writes a database the maxmind package reads', async () => {
    const reader = await maxmind.open(db);
    expect(reader.metadata.databaseType).toBe('GeoLite2-City');
    expect(await lookupMmdb(db, '203.0.113.200')).toEqual({ latitude: 48.8566, longitude: 2.3522, country: 'France', city: 'Paris' });
    expect(await lookupMmdb(db, '198.51.100.7')).toMatchObject({ city: 'Sydney' });
    expect(await lookupMmdb(db, '198.51.100.8')).toBeNull();
    expect(await lookupMmdb(db, '8.8.8.8')).toBeNull();
  });
});

describe('resolveLocation', () => {
  it('explicit latitude/longitude win over everything, skip_geolocation included', async () => {
    const { logger } = captureLogger();
    const loc = await resolveLocation(
      { ...base, latitude: 52.52, longitude: 13.405, skip_geolocation: true, geoip_db_path: db, public_ip: '203.0.113.5' },
      { logger, localIp: '10.0.0.2', ipapiBaseUrl: 'http://127.0.0.1:9' },
    );
    expect(loc).toEqual({ latitude: 52.52, longitude: 13.405, country: '', city: '', publicIp: '203.0.113.5', source: 'config' });
  });

  it('accepts 0,0 as a real location (0 is not "unknown")', async () => {
    const loc = await resolveLocation({ ...base, latitude: 0, longitude: 0 }, { logger: captureLogger().logger, localIp: '10.0.0.2' });
    expect(loc).toMatchObject({ latitude: 0, longitude: 0, source: 'config' });
  });

  it('skip_geolocation leaves the location unknown and says so', async () => {
    const { logger, lines } = captureLogger();
    const loc = await resolveLocation({ ...base, skip_geolocation: true }, { logger, localIp: '10.0.0.2' });
    expect(loc).toMatchObject({ latitude: null, longitude: null, source: 'none' });
    expect(lines.some((l) => /skip/.test(l.msg))).toBe(true);
  });

  it('looks the configured public IP up in the GeoIP database', async () => {
    const loc = await resolveLocation(
      { ...base, geoip_db_path: db, public_ip: '203.0.113.5' },
      { logger: captureLogger().logger, localIp: '10.0.0.2', ipapiBaseUrl: 'http://127.0.0.1:9' },
    );
    expect(loc).toEqual({ latitude: 48.8566, longitude: 2.3522, country: 'France', city: 'Paris', publicIp: '203.0.113.5', source: 'mmdb' });
  });

  it('never geolocates a private LAN address: discovers the public IP instead', async () => {
    const srv = await ipapi({ ip: '198.51.100.7' });
    const { logger, lines } = captureLogger();
    const loc = await resolveLocation(
      { ...base, geoip_db_path: db, public_ip: '192.168.1.20' },
      { logger, localIp: '192.168.1.20', ipapiBaseUrl: srv.url },
    );
    expect(loc).toMatchObject({ city: 'Sydney', publicIp: '198.51.100.7', source: 'mmdb' });
    expect(lines.some((l) => /not a public address/.test(l.msg))).toBe(true);
    expect(srv.requests.map((r) => r.path)).toEqual(['/ip/']);
  });

  it('uses a public local address directly', async () => {
    const loc = await resolveLocation(
      { ...base, geoip_db_path: db },
      { logger: captureLogger().logger, localIp: '203.0.113.9', ipapiBaseUrl: 'http://127.0.0.1:9' },
    );
    expect(loc).toMatchObject({ city: 'Paris', publicIp: '203.0.113.9', source: 'mmdb' });
  });

  it('falls back to ipapi.co when the database is unreadable, and logs why', async () => {
    const srv = await ipapi();
    const bad = join(dir, 'corrupt.mmdb');
    writeFileSync(bad, 'not a database');
    const { logger, lines } = captureLogger();
    const loc = await resolveLocation({ ...base, geoip_db_path: bad, public_ip: '203.0.113.5' }, { logger, localIp: '10.0.0.2', ipapiBaseUrl: srv.url });
    expect(loc).toMatchObject({ latitude: 40.7128, longitude: -74.006, city: 'New York', country: 'United States', source: 'ipapi' });
    expect(srv.requests.map((r) => r.path)).toEqual(['/203.0.113.5/json/']);
    expect(lines.some((l) => /cannot read the GeoIP database/.test(l.msg))).toBe(true);
  });

  it('falls back to ipapi.co when the IP is not in the database', async () => {
    const srv = await ipapi();
    const { logger, lines } = captureLogger();
    const loc = await resolveLocation({ ...base, geoip_db_path: db, public_ip: '8.8.8.8' }, { logger, localIp: '10.0.0.2', ipapiBaseUrl: srv.url });
    expect(loc.source).toBe('ipapi');
    expect(lines.some((l) => /not found in the GeoIP database/.test(l.msg))).toBe(true);
  });

  it('asks ipapi.co about itself when no public IP is known, and keeps the address it reports', async () => {
    const srv = await ipapi({ ip: '203.0.113.44' });
    const loc = await resolveLocation(base, { logger: captureLogger().logger, localIp: '10.1.2.3', ipapiBaseUrl: srv.url });
    expect(srv.requests.map((r) => r.path)).toEqual(['/json/']);
    expect(loc).toMatchObject({ publicIp: '203.0.113.44', source: 'ipapi', city: 'New York' });
  });

  it('an ipapi.co error answer leaves the location unknown and logs the reason', async () => {
    const srv = await ipapi({ answer: { error: true, reason: 'RateLimited' } });
    const { logger, lines } = captureLogger();
    const loc = await resolveLocation(base, { logger, localIp: '10.1.2.3', ipapiBaseUrl: srv.url });
    expect(loc).toMatchObject({ latitude: null, longitude: null, source: 'none' });
    expect(lines.some((l) => l.reason === 'ipapi.co error: RateLimited')).toBe(true);
  });

  it('a hanging ipapi.co does not block past the timeout', async () => {
    const srv = await ipapi({ hang: true });
    const { logger, lines } = captureLogger();
    const started = Date.now();
    const loc = await resolveLocation({ ...base, geolocation_timeout_ms: 300 }, { logger, localIp: '10.1.2.3', ipapiBaseUrl: srv.url });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(loc.source).toBe('none');
    expect(lines.some((l) => l.reason === 'timed out after 300 ms')).toBe(true);
  });

  it('the timeout bounds discovery + lookup together', async () => {
    const srv = await ipapi({ hang: true });
    const started = Date.now();
    const loc = await resolveLocation({ ...base, geoip_db_path: db, geolocation_timeout_ms: 300 }, { logger: captureLogger().logger, localIp: '10.1.2.3', ipapiBaseUrl: srv.url });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(loc.source).toBe('none');
  });

  it('garbage and unreachable ipapi.co leave the location unknown', async () => {
    const srv = await scriptedServer((_req, res) => res.end('<html>nope</html>'));
    cleanups.push(srv.close);
    expect((await resolveLocation(base, { logger: captureLogger().logger, localIp: '10.0.0.1', ipapiBaseUrl: srv.url })).source).toBe('none');
    expect((await resolveLocation(base, { logger: captureLogger().logger, localIp: '10.0.0.1', ipapiBaseUrl: 'http://127.0.0.1:9' })).source).toBe('none');
  });
});

describe('addresses', () => {
  it('classifies public and non-public addresses', () => {
    for (const ip of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '127.0.0.1', '169.254.1.1', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:10.0.0.1', 'not-an-ip', '']) {
      expect(isPublicIp(ip), ip).toBe(false);
    }
    for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '203.0.113.5', '2a00:1450:4001::1', '::ffff:8.8.8.8']) {
      expect(isPublicIp(ip), ip).toBe(true);
    }
  });

  it('discovers the first non-internal IPv4 address', () => {
    const mk = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) =>
      ({ address, family, internal, netmask: '', mac: '', cidr: null }) as never;
    expect(discoverLocalIp({ lo: [mk('127.0.0.1', 'IPv4', true)], eth0: [mk('fe80::1', 'IPv6', false), mk('10.0.0.7', 'IPv4', false)] })).toBe('10.0.0.7');
    expect(discoverLocalIp({ eth0: [mk('fe80::1', 'IPv6', false), mk('2001:db8::5', 'IPv6', false)] })).toBe('2001:db8::5');
    expect(discoverLocalIp({ lo: [mk('127.0.0.1', 'IPv4', true)] })).toBe('127.0.0.1');
    expect(discoverLocalIp()).toMatch(/[.:]/);
  });
});
