import { z } from 'zod';
import { isCidr } from './cidr.js';
import { bool, int, json, num, oneOf, str, strList, type ConfigOf, type Field, type FieldTable } from './fields.js';
import { DEFAULT_TIERS, TierSchema, type Tier } from './tiers.js';
import { ServerMonitorsSchema } from './monitor-entry.js';
import { parseDuration } from '../platform/duration.js';
import { ALERT_FIELDS } from './alerts.js';
import { STATUS_PAGE_FIELDS } from './status-pages.js';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const isPathPrefix = { check: (v: string) => v.startsWith('/'), expected: 'a path prefix starting with "/" (or "/*" for all paths)' };
/** A SQLite path, or a URL that is a well-formed postgres:// (postgresql://) URL with a host; no other scheme. */
const isDatabase = {
  check: (v: string) => {
    if (v === '') return false;
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return true;
    if (!/^postgres(ql)?:\/\//i.test(v)) return false;
    try {
      const u = new URL(v);
      return u.hostname !== '' && u.pathname.length > 1;
    } catch {
      return false;
    }
  },
  expected: 'a SQLite file path or a postgres://user:pass@host:port/database URL',
};
const isDuration = {
  check: (v: string) => /^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$/i.test(v) && parseDuration(v) > 0,
  expected: 'a duration above 0 such as 30m, 12h or 7d (a bare number is seconds)',
};
/**
 * The main port's management paths (exact, and prefixes), which always win over proxy_endpoints; app/server.ts
 * registers exactly these (it checks at start), and dashboard_path must not clash with any of them.
 */
export const MANAGEMENT_PATHS = ['/register', '/stats', '/route', '/health', '/clients', '/latency', '/clients/purge', '/clients/purge-pending', '/metrics'] as const;
export const MANAGEMENT_PREFIXES = ['/reservations/', '/vantage.v1.'] as const;

/** Why `v` cannot be the dashboard's path on the main port, or null ('' disables it). */
export function dashboardPathProblem(v: string): string | null {
  if (v === '') return null;
  if (!v.startsWith('/') || !v.endsWith('/') || v.length < 3) return 'expected a path that starts and ends with "/" such as "/ui/" (or "" / false to disable)';
  if (!/^[A-Za-z0-9._~/-]+$/.test(v) || v.includes('//') || /(^|\/)\.\.?(\/|$)/.test(v)) return 'expected letters, digits and . _ ~ - between slashes';
  const bare = v.slice(0, -1);
  for (const p of MANAGEMENT_PATHS) {
    if (p.startsWith(v) || p === bare) return `expected a path that does not clash with the management path ${p}${p === '/health' ? ' (the health path)' : ''}`;
  }
  for (const p of MANAGEMENT_PREFIXES) {
    if (v.startsWith(p) || p.startsWith(v)) return `expected a path that does not clash with the management paths under ${p}`;
  }
  return null;
}

/** dashboard_path: a path, or false (as '') to disable; "false" from the environment or a flag is false too. */
function dashboardPathField(def: string, doc: string): Field<string> {
  const schema = z
    .union([z.string(), z.literal(false)], { error: 'expected a path such as "/ui/", or "" / false to disable' })
    .transform((v) => (v === false || v === 'false' ? '' : v))
    .superRefine((v, ctx) => {
      const problem = dashboardPathProblem(v);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: v });
    })
    .default(def);
  return { schema: schema as unknown as z.ZodType<string>, kind: 'string', default: def, doc, arg: '<path>' };
}

const isHeaderName = { check: (v: string) => v === '' || /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v), expected: 'an HTTP header name (or empty)' };

/**
 * Every server.yml key: name, default and meaning. Keys from the Opsen seed keep their names and defaults
 * (except `database`, which defaults to ./data/vantage.db so that `npm start` needs no root); Vantage's
 * additions are marked "Vantage:".
 */
export const SERVER_FIELDS = {
  // Basic
  port: int(8080, 'HTTP port of the management API and proxy (0 = pick a free port).', { min: 0, max: 65535 }),
  host: str('0.0.0.0', 'Address to listen on.'),
  database: str(
    './data/vantage.db',
    'SQLite file path (one server), or a postgres://user:pass@host:port/db URL (PostgreSQL 15+: several replicas on one database, see docs/scale-out.md).',
    isDatabase,
  ),
  stale_minutes: int(5, 'A backend whose last report is older than this is not routed to.', { min: 1 }),
  log_level: oneOf(LOG_LEVELS, 'info', 'Log level.'),
  json_logging: bool(false, 'Log JSON lines instead of human-readable text.'),
  // Security
  server_key: str('', 'Key agents send as X-API-Key (empty = none).'),
  api_keys: strList('Additional API keys accepted in X-API-Key; "key" has full access, "key:viewer", "key:editor" or "key:admin" gives the key that web role (docs/web.md#api-keys).'),
  whitelisted_ips: strList('CIDR ranges allowed to call the management API (empty = all).', {
    check: isCidr,
    expected: 'a CIDR range such as "10.0.0.0/8" or an IP address',
  }),
  trusted_proxies: strList('Vantage: CIDR ranges of proxies whose X-Forwarded-For hop is believed (empty = never).', {
    check: isCidr,
    expected: 'a CIDR range such as "10.0.0.0/8" or an IP address',
  }),
  rate_limit_per_minute: int(60, 'Token-bucket refill per client IP per minute.', { min: 1 }),
  rate_limit_burst: int(120, 'Token-bucket size per client IP.', { min: 1 }),
  rate_limit_exempt_agents: bool(true, 'Vantage: requests authenticated with server_key skip the per-IP rate limit.'),
  max_request_body_bytes: int(10485760, 'Largest accepted request body (413 above).', { min: 1 }),
  request_timeout_seconds: int(30, 'Whole-request timeout (SSE and WebSocket exempt).', { min: 1 }),
  read_header_timeout_seconds: int(10, 'Time allowed to send request headers (slowloris protection).', { min: 1 }),
  idle_timeout_seconds: int(120, 'Idle keep-alive connections (HTTP/1.1 and HTTP/2) and WebSocket tunnels without traffic are closed after this long.', { min: 1 }),
  disable_security_headers: bool(false, 'Do not add X-Content-Type-Options, X-Frame-Options and friends.'),
  exit_on_unhandled_rejection: bool(false, 'Vantage: exit on an unhandled promise rejection instead of logging it.'),
  // TLS
  tls_cert_file: str('', 'PEM certificate; with tls_key_file serves HTTPS (empty = HTTP).'),
  tls_key_file: str('', 'PEM private key for tls_cert_file.'),
  tls_insecure_skip_verify: bool(false, 'Do not verify backend TLS certificates (dev only).'),
  http2: bool(true, 'Vantage: with TLS, also serve HTTP/2 on the same port (ALPN "h2"; HTTP/1.1 clients keep working). Plain HTTP is HTTP/1.1 only.'),
  // CORS
  enable_cors: bool(false, 'Answer CORS preflights and add CORS headers.'),
  cors_allowed_origins: strList('Origins allowed by CORS ("*" = any, without credentials).'),
  // Reverse proxy
  proxy_endpoints: strList('Path prefixes proxied to backends, e.g. ["/api"]; "/*" = all paths.', isPathPrefix),
  proxy_sse_flush_interval_ms: int(-1, 'SSE flushing: -1 = immediate, 0 = off, >0 = interval in ms.', { min: -1 }),
  proxy_backend_header: bool(false, 'Vantage: add X-Vantage-Backend (client_id) to proxied responses.'),
  proxy_timeout_seconds: int(0, 'Vantage: backend response timeout for proxied requests (0 = request_timeout_seconds); 504 on expiry.', { min: 0 }),
  outlier_ejection_consecutive_failures: int(5, 'Vantage: consecutive proxy connect errors/5xx that mark a backend unhealthy (0 = off).', { min: 0 }),
  // Geolocation
  geoip_db_path: str('', 'GeoLite2-City.mmdb used to locate client_ip (empty = off).'),
  // Sticky sessions
  sticky_header: str('', 'Header carrying the sticky id, e.g. "X-Session-ID" (empty = off).', isHeaderName),
  sticky_by_ip: bool(false, 'Without a sticky header value, use the client address as the sticky id (/route: client_ip, else the caller; proxy: the client, through trusted_proxies).'),
  sticky_affinity_enabled: bool(true, 'Different tiers of one sticky id prefer the same backend.'),
  pending_allocation_timeout_seconds: int(120, 'How long a reservation counts against a backend.', { min: 1 }),
  sticky_idle_ttl_hours: num(168, 'Vantage: sticky assignments unused this long are forgotten by the cleanup job.', { min: 0, exclusiveMin: true }),
  // Tier detection
  tier_field_name: str('tier', 'JSON body field naming the tier (proxy).'),
  tier_header: str('X-Tier', 'Header naming the tier (proxy).', isHeaderName),
  // Database
  db_max_open_conns: int(25, 'Connection pool size (PostgreSQL).', { min: 1 }),
  db_max_idle_conns: int(5, 'Idle connections kept (PostgreSQL).', { min: 0 }),
  db_conn_max_lifetime: int(300, 'Seconds before a pooled connection is recycled (PostgreSQL).', { min: 0 }),
  cleanup_interval_seconds: int(60, 'How often old stats are deleted.', { min: 1 }),
  stats_retention_days: num(7, 'Vantage: stats older than this are deleted by the cleanup job.', { min: 0, exclusiveMin: true }),
  shutdown_timeout_seconds: int(30, 'Time in-flight requests get to finish on shutdown.', { min: 0 }),
  // Tiers
  tiers: json(
    z
      .array(TierSchema, { error: 'expected a list of tiers ({name, vcpu, memory_gb, storage_gb, gpu?, gpu_memory_gb?})' })
      .default([]) as unknown as z.ZodType<Tier[]>,
    [],
    'Tier definitions (empty = small, medium, large, gpu-inference, gpu-training).',
  ),
  default_tier: str('', 'Tier for requests that name none (empty = the first tier).'),
  // Health checks
  health_check_enabled: bool(true, 'Probe backends actively.'),
  health_check_type: oneOf(['tcp', 'http'] as const, 'tcp', 'Probe type.'),
  health_check_interval_seconds: int(10, 'Seconds between probes of one backend.', { min: 1 }),
  health_check_timeout_seconds: int(2, 'Probe timeout.', { min: 1 }),
  health_check_path: str('/health', 'Path probed by HTTP health checks.', isPathPrefix),
  health_check_unhealthy_threshold: int(3, 'Consecutive failures before unhealthy.', { min: 1 }),
  health_check_healthy_threshold: int(2, 'Consecutive successes before healthy.', { min: 1 }),
  health_check_concurrency: int(64, 'Vantage: most probes in flight at once.', { min: 1 }),
  // Routing by measured latency
  routing_distance: oneOf(['haversine', 'measured'] as const, 'haversine', 'Vantage: distance term of the score: great-circle km (haversine), or the client region\'s measured RTT × rtt_km_per_ms where its workers probed the backend (measured).'),
  rtt_km_per_ms: num(100, 'Vantage: km of distance per ms of measured round trip (light in fibre: about 100 km per ms of RTT).', { min: 0, exclusiveMin: true }),
  region_probe_interval_seconds: int(30, 'Vantage: how often the workers of each region probe every backend (system monitors); a measurement older than 3 intervals is unknown.', { min: 1 }),
  region_locations: json(
    z.record(z.string().min(1), z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }).strict(), {
      error: 'expected a map of region name to {lat, lon} (lat -90..90, lon -180..180)',
    }).default({}) as unknown as z.ZodType<Record<string, { lat: number; lon: number }>>,
    {},
    'Vantage: region locations, e.g. {eu-west: {lat: 53.3, lon: -6.3}}; a region not named here is located at the centroid of its workers\' backends.',
  ),
  // Monitoring control plane
  monitoring_enabled: bool(true, 'Vantage: run the monitoring control plane (scheduler, worker API).'),
  worker_port: int(8081, 'Vantage: port of the worker API (Connect over HTTP/2; 0 = pick a free port).', { min: 0, max: 65535 }),
  worker_host: str('', 'Vantage: address of the worker API (empty = host).'),
  cluster_token: str('', 'Vantage: token workers present (X-Cluster-Token); server_key is also accepted.'),
  // Worker PKI (docs/workers.md)
  worker_auth: oneOf(
    ['auto', 'mtls', 'both', 'token', 'none'] as const,
    'auto',
    'Vantage: how workers authenticate: mtls (client certificate from the worker CA), token (cluster_token/server_key, weaker), both (migration), none (anyone, explicitly); auto = token while cluster_token/server_key is set, else mtls with the worker CA, else loopback workers only.',
  ),
  pki_ca_cert_file: str('', 'Vantage: worker CA certificate (empty = ca.pem under /var/lib/vantage as root, ~/.vantage otherwise; created on first start).'),
  pki_ca_key_file: str('', 'Vantage: worker CA private key, mode 0600 (empty = ca-key.pem beside the certificate).'),
  pki_seal_key: str('', 'Vantage: PostgreSQL only: secret that seals the CA key stored in the database, the same on every replica (empty = the key comes from pki_ca_key_file).'),
  worker_cert_days: int(30, 'Vantage: lifetime in days of the certificates issued to workers (renewed after two thirds).', { min: 1, max: 825 }),
  pki_server_names: strList('Vantage: extra DNS names / IPs in the worker API certificate (localhost, loopback and the hostname are always in it).'),
  pki_revocation_check_seconds: int(5, 'Vantage: how often open worker streams are checked against the revocation list.', { min: 1 }),
  lease_timeout_seconds: int(45, 'Vantage: job lease length.', { min: 1 }),
  lease_renew_interval_seconds: int(10, 'Vantage: how often workers renew leases of running checks.', { min: 1 }),
  dispatch_lead_ms: int(2000, 'Vantage: how long before scheduled_at a job may be leased.', { min: 0 }),
  scheduler_interval_ms: int(1000, 'Vantage: scheduler poll period.', { min: 10 }),
  scheduler_lookahead_ms: int(5000, 'Vantage: scheduler look-ahead.', { min: 0 }),
  reaper_interval_seconds: int(5, 'Vantage: lease reaper period.', { min: 1 }),
  job_max_attempts: int(3, 'Vantage: lease expiries before a job is closed with an expiry result.', { min: 1 }),
  stream_ping_interval_seconds: int(15, 'Vantage: idle worker streams are pinged this often.', { min: 1 }),
  stream_pong_timeout_seconds: int(10, 'Vantage: a stream whose pong is later than this is closed.', { min: 1 }),
  worker_inactive_seconds: int(90, 'Vantage: a worker unseen this long is marked inactive.', { min: 1 }),
  results_retention_days: num(30, 'Vantage: raw results older than this are deleted.', { min: 0, exclusiveMin: true }),
  rollup_1m_retention_days: num(7, 'Vantage: 1-minute rollups kept this long.', { min: 0, exclusiveMin: true }),
  rollup_1h_retention_days: num(90, 'Vantage: 1-hour rollups kept this long.', { min: 0, exclusiveMin: true }),
  rollup_1d_retention_days: num(730, 'Vantage: 1-day rollups kept this long.', { min: 0, exclusiveMin: true }),
  ingest_batch_window_ms: int(10, 'Vantage: results arriving within this many ms of a batch\'s first share its ingest transaction (0 = one event-loop turn); the ACK follows the commit.', { min: 0, max: 1000 }),
  // Web dashboard port (docs/web.md)
  web_port: int(8082, 'Vantage: port of the web dashboard and its API (session cookies; 0 = pick a free port).', { min: 0, max: 65535 }),
  web_host: str('', 'Vantage: address of the web port (empty = host).'),
  web_tls_disable: bool(false, 'Vantage: serve the web port over plain HTTP (the environment variable WEB_TLS_DISABLE=true does the same); default HTTPS.'),
  dashboard_path: dashboardPathField(
    '/ui/',
    'Vantage: the dashboard (with its sign-in, live stream and web API) is also served on the main port under this path; "" or false = only on the web port. Session cookies set here carry Path=<dashboard_path> (docs/web.md#the-dashboard-on-the-main-port).',
  ),
  web_tls_cert_file: str('', 'Vantage: PEM certificate of the web port (empty = a self-signed certificate generated once into state_dir).'),
  web_tls_key_file: str('', 'Vantage: PEM private key for web_tls_cert_file.'),
  state_dir: str('', 'Vantage: where the server keeps generated files: the web port\'s self-signed certificate (web-tls/) and the worker API certificate the worker CA signs (worker-tls/) (empty = the SQLite database\'s folder, ./data with PostgreSQL).'),
  session_secret: str('', 'Vantage: HMAC-SHA256 key signing session cookies (empty = one generated on first start and stored in the database).'),
  session_ttl: str('7d', 'Vantage: how long a web session lasts after sign-in (a duration: 30m, 12h, 7d).', isDuration),
  login_max_failures_per_user: int(5, 'Vantage: failed sign-ins for one username within login_throttle_window before it is refused with 429.', { min: 1 }),
  login_max_failures_per_ip: int(20, 'Vantage: failed sign-ins from one client address within login_throttle_window before it is refused with 429.', { min: 1 }),
  login_throttle_window: str('15m', 'Vantage: the window failed sign-ins are counted in (a duration: 30s, 15m, 1h).', isDuration),
  monitors: json(
    ServerMonitorsSchema,
    [],
    'Vantage: monitors as code, applied at start (created or updated by name, never deleted; see docs/monitoring.md#monitors-in-serveryml).',
  ),
  // Alerts (src/config/alerts.ts)
  ...ALERT_FIELDS,
  // Status pages and maintenance windows (src/config/status-pages.ts)
  ...STATUS_PAGE_FIELDS,
} satisfies FieldTable;

export type ServerConfigInput = ConfigOf<typeof SERVER_FIELDS>;
/** The validated server configuration: `tiers` and `default_tier` are always filled in. */
export type ServerConfig = ServerConfigInput;

const shape = Object.fromEntries(Object.entries(SERVER_FIELDS).map(([k, f]) => [k, f.schema])) as {
  [K in keyof typeof SERVER_FIELDS]: (typeof SERVER_FIELDS)[K]['schema'];
};

/** The schema of server.yml after merging file, environment and flags. */
export const ServerConfigSchema = z
  .object(shape)
  .transform((c, ctx) => {
    const tiers = c.tiers.length > 0 ? c.tiers : DEFAULT_TIERS.map((t) => ({ ...t }));
    const seen = new Set<string>();
    tiers.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: ['tiers', i, 'name'], message: `expected unique tier names, "${t.name}" appears twice`, input: t.name });
      seen.add(t.name);
    });
    const default_tier = c.default_tier || tiers[0]!.name;
    if (!seen.has(default_tier)) {
      ctx.addIssue({ code: 'custom', path: ['default_tier'], message: `expected one of the configured tiers (${[...seen].join(', ')})`, input: c.default_tier });
    }
    if ((c.tls_cert_file === '') !== (c.tls_key_file === '')) {
      ctx.addIssue({ code: 'custom', path: [c.tls_cert_file ? 'tls_key_file' : 'tls_cert_file'], message: 'expected both tls_cert_file and tls_key_file, or neither', input: '' });
    }
    if ((c.web_tls_cert_file === '') !== (c.web_tls_key_file === '')) {
      ctx.addIssue({ code: 'custom', path: [c.web_tls_cert_file ? 'web_tls_key_file' : 'web_tls_cert_file'], message: 'expected both web_tls_cert_file and web_tls_key_file, or neither', input: '' });
    }
    return { ...c, tiers, default_tier } as ServerConfig;
  });

/** Short CLI aliases from the seed (`-stale 10`), mapped to their keys. */
export const SERVER_FLAG_ALIASES: Record<string, keyof ServerConfig> = { stale: 'stale_minutes' };

/** Seed 003 names WEB_TLS_DISABLE=true without the VANTAGE_ prefix; it is honoured (VANTAGE_WEB_TLS_DISABLE wins). */
export const SERVER_SEED_ENV: Record<string, string> = { web_tls_disable: 'WEB_TLS_DISABLE' };
