import { z } from 'zod';
import { EndpointRuleSchema, type EndpointRuleBody } from '../api/lb/wire.js';
import { bool, int, json, nullableNum, oneOf, str, type ConfigOf, type FieldTable } from './fields.js';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const isHttpUrl = { check: (v: string) => /^https?:\/\/[^\s/]+/.test(v), expected: 'an http:// or https:// URL' };
const isHttpUrlOrEmpty = { check: (v: string) => v === '' || isHttpUrl.check(v), expected: 'an http:// or https:// URL, or empty' };

/** Every client.yml key: name, default and meaning. Seed keys keep their names and defaults; additions are marked "Vantage:". */
export const CLIENT_FIELDS = {
  // Basic
  server_url: str('http://localhost:8080', 'URL of the Vantage server.', isHttpUrl),
  server_key: str('', "Must match the server's server_key (sent as X-API-Key)."),
  endpoint_url: str('', 'Where this backend accepts traffic (empty = http://{local_ip}:11000).', isHttpUrlOrEmpty),
  endpoints: json(
    z
      .array(EndpointRuleSchema, { error: 'expected a list of {url, paths: [pattern…]}' })
      .max(100)
      .default([]) as unknown as z.ZodType<EndpointRuleBody[]>,
    [],
    'Path-based endpoints sent with /register, [{url, paths: [pattern…]}]: an exact path beats a prefix ("/api/"), which beats a "*"/"?" wildcard; other paths go to endpoint_url.',
  ),
  // Metrics
  window_minutes: int(15, 'Averaging window of reported figures.', { min: 1 }),
  report_interval_seconds: int(60, 'Seconds between /stats reports.', { min: 1 }),
  sample_interval_seconds: int(1, 'Vantage: seconds between samples.', { min: 1 }),
  disk_path: str('/', 'Filesystem whose space is reported.'),
  gpu_retry_seconds: int(300, 'Vantage: retry period after nvidia-smi is missing or fails.', { min: 1 }),
  // Identity
  client_id: str('', 'Backend id (empty = a UUID generated once and kept in state_dir).'),
  hostname: str('', 'Reported hostname (empty = the system hostname).'),
  state_dir: str('', 'Vantage: where the generated client_id is kept (empty = /var/lib/vantage as root, ~/.vantage otherwise).'),
  public_ip: str('', 'Vantage: public address to report and geolocate (empty = discover).'),
  local_ip: str('', 'Vantage: LAN address to report (empty = first non-internal IPv4).'),
  // Geolocation
  skip_geolocation: bool(false, 'Do not geolocate this host.'),
  geoip_db_path: str('', 'GeoLite2-City.mmdb used to locate the public IP.'),
  latitude: nullableNum('Vantage: explicit latitude; overrides GeoIP and ipapi.co.', { min: -90, max: 90 }),
  longitude: nullableNum('Vantage: explicit longitude; overrides GeoIP and ipapi.co.', { min: -180, max: 180 }),
  geolocation_timeout_ms: int(3000, 'Vantage: longest wait for the ipapi.co lookup.', { min: 1 }),
  // Logging & TLS
  log_level: oneOf(LOG_LEVELS, 'info', 'Log level.'),
  json_logging: bool(false, 'Vantage: log JSON lines instead of human-readable text.'),
  insecure_tls: bool(false, 'Skip server certificate verification (dev only).'),
  request_timeout_seconds: int(10, 'Vantage: timeout of one /register or /stats request.', { min: 1 }),
  metrics_port: int(0, 'Vantage: port of the agent\'s own Prometheus /metrics (0 = off).', { min: 0, max: 65535 }),
  metrics_host: str('127.0.0.1', 'Vantage: address of the agent\'s /metrics.'),
  // Monitoring worker
  monitoring_enabled: bool(true, 'Vantage: run monitoring checks leased to this region.'),
  worker_url: str('', "Vantage: worker API URL (empty = server_url's host on port 8081).", isHttpUrlOrEmpty),
  region: str('global', 'Vantage: region whose checks this agent runs.', {
    check: (v) => /^[a-z0-9][a-z0-9._-]{0,63}$/.test(v),
    expected: 'a region name of lowercase letters, digits, ".", "_" or "-"',
  }),
  max_concurrent_checks: int(32, 'Vantage: most checks running at once.', { min: 1 }),
  cluster_token: str('', 'Vantage: token for the worker API (empty = server_key).'),
  enrollment_token: str('', 'Vantage: one-time token from `vantage worker token create`; on first start the agent enrolls with it and keeps its certificate in state_dir.'),
  ca_fingerprint: str('', 'Vantage: sha256 fingerprint of the worker CA to pin at enrollment (empty = trust the CA seen on first contact).', {
    check: (v) => v === '' || /^(sha256:)?([0-9a-fA-F]{2}:?){32}$/.test(v),
    expected: 'a sha256 fingerprint (64 hex digits, optionally "sha256:" and colons)',
  }),
} satisfies FieldTable;

export type ClientConfig = ConfigOf<typeof CLIENT_FIELDS>;

const shape = Object.fromEntries(Object.entries(CLIENT_FIELDS).map(([k, f]) => [k, f.schema])) as {
  [K in keyof typeof CLIENT_FIELDS]: (typeof CLIENT_FIELDS)[K]['schema'];
};

/** The schema of client.yml after merging file, environment and flags. */
export const ClientConfigSchema = z.object(shape).transform((c, ctx) => {
  if ((c.latitude === null) !== (c.longitude === null)) {
    ctx.addIssue({ code: 'custom', path: [c.latitude === null ? 'latitude' : 'longitude'], message: 'expected latitude and longitude together, or neither', input: null });
  }
  return c as ClientConfig;
});

/** Short CLI aliases from the seed (`-server URL`, `-window 20`). */
export const CLIENT_FLAG_ALIASES: Record<string, keyof ClientConfig> = { server: 'server_url', window: 'window_minutes' };
