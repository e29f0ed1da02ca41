/**
 * The subset of the client configuration the agent reads.
 *
 * The lead's `src/config/client.ts` owns the schema and defaults (`ClientConfigSchema`);
 * this interface names exactly the keys the agent uses so the agent compiles on its own.
 * `ClientConfig` (zod output) is structurally assignable to it.
 */
export interface AgentConfig {
  server_url: string;
  server_key: string;
  endpoint_url: string;
  window_minutes: number;
  report_interval_seconds: number;
  disk_path: string;
  client_id: string;
  hostname: string;
  skip_geolocation: boolean;
  geoip_db_path: string;
  insecure_tls: boolean;
  latitude: number | null;
  longitude: number | null;
  public_ip: string;
  local_ip: string;
  state_dir: string;
  sample_interval_seconds: number;
  metrics_port: number;
  metrics_host: string;
  gpu_retry_seconds: number;
  geolocation_timeout_ms: number;
  request_timeout_seconds: number;
}

/** Defaults as documented for client.yml (mirrors src/config/client.ts); used by tests and benches. */
export const AGENT_CONFIG_DEFAULTS: AgentConfig = Object.freeze({
  server_url: 'http://localhost:8080',
  server_key: '',
  endpoint_url: '',
  window_minutes: 15,
  report_interval_seconds: 60,
  disk_path: '/',
  client_id: '',
  hostname: '',
  skip_geolocation: false,
  geoip_db_path: '',
  insecure_tls: false,
  latitude: null,
  longitude: null,
  public_ip: '',
  local_ip: '',
  state_dir: '',
  sample_interval_seconds: 1,
  metrics_port: 0,
  metrics_host: '127.0.0.1',
  gpu_retry_seconds: 300,
  geolocation_timeout_ms: 3000,
  request_timeout_seconds: 10,
});
