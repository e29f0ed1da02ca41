import { CLIENT_FIELDS, type ClientConfig } from '../config/client.js';
import { defaultsOf } from '../config/fields.js';

/** The client.yml keys the agent reads (src/config/client.ts owns the schema, defaults and loading). */
export const AGENT_CONFIG_KEYS = [
  'server_url',
  'server_key',
  'endpoint_url',
  'endpoints',
  'window_minutes',
  'report_interval_seconds',
  'disk_path',
  'client_id',
  'hostname',
  'skip_geolocation',
  'geoip_db_path',
  'insecure_tls',
  'latitude',
  'longitude',
  'public_ip',
  'local_ip',
  'state_dir',
  'sample_interval_seconds',
  'metrics_port',
  'metrics_host',
  'gpu_retry_seconds',
  'geolocation_timeout_ms',
  'request_timeout_seconds',
] as const satisfies ReadonlyArray<keyof ClientConfig>;

/**
 * The subset of the client configuration the agent uses. A full `ClientConfig` is one; tests
 * and benches can build just these keys.
 */
export type AgentConfig = Pick<ClientConfig, (typeof AGENT_CONFIG_KEYS)[number]>;

/** client.yml defaults of those keys, taken from CLIENT_FIELDS (src/config/client.ts); for tests and benches. */
export const AGENT_CONFIG_DEFAULTS: AgentConfig = Object.freeze(defaultsOf(CLIENT_FIELDS, AGENT_CONFIG_KEYS));
