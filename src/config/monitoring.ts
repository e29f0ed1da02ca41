import { defaultsOf } from './fields.js';
import { SERVER_FIELDS, type ServerConfig } from './server.js';

/**
 * The server.yml keys the monitoring control plane reads. Named, documented and defaulted once, in
 * SERVER_FIELDS (src/config/server.ts); this file only picks them, so the component depends on the
 * keys it reads and tests can pass partial configs.
 */
export const MONITORING_CONFIG_KEYS = [
  'monitoring_enabled',
  'worker_port',
  'worker_host',
  'host',
  'cluster_token',
  'server_key',
  'api_keys',
  'tls_cert_file',
  'tls_key_file',
  'lease_timeout_seconds',
  'lease_renew_interval_seconds',
  'dispatch_lead_ms',
  'scheduler_interval_ms',
  'scheduler_lookahead_ms',
  'reaper_interval_seconds',
  'job_max_attempts',
  'stream_ping_interval_seconds',
  'stream_pong_timeout_seconds',
  'worker_inactive_seconds',
  'results_retention_days',
  'rollup_1m_retention_days',
  'rollup_1h_retention_days',
  'rollup_1d_retention_days',
  'monitors',
  'ingest_batch_window_ms',
  'worker_auth',
  'pki_ca_cert_file',
  'pki_ca_key_file',
  'pki_seal_key',
  'worker_cert_days',
  'pki_server_names',
  'pki_revocation_check_seconds',
] as const satisfies ReadonlyArray<keyof ServerConfig>;

export type MonitoringConfig = Pick<ServerConfig, (typeof MONITORING_CONFIG_KEYS)[number]>;

/** server.yml defaults of those keys, taken from SERVER_FIELDS. */
export const MONITORING_DEFAULTS: MonitoringConfig = defaultsOf(SERVER_FIELDS, MONITORING_CONFIG_KEYS);

/** Fills missing keys with their defaults (tests and benches pass partial configs). */
export function monitoringConfig(partial: Partial<MonitoringConfig> = {}): MonitoringConfig {
  const out: MonitoringConfig = { ...MONITORING_DEFAULTS };
  for (const [k, v] of Object.entries(partial)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

export const DAY_MS = 86_400_000;
