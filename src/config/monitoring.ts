/**
 * The monitoring keys of server.yml (`ServerConfig`, src/config/server.ts, has all of them, same names and defaults).
 * Declared here structurally so this component depends only on the keys it reads.
 */
export interface MonitoringConfig {
  monitoring_enabled: boolean;
  worker_port: number;
  worker_host: string;
  host: string;
  cluster_token: string;
  server_key: string;
  api_keys: string[];
  tls_cert_file: string;
  tls_key_file: string;
  lease_timeout_seconds: number;
  lease_renew_interval_seconds: number;
  dispatch_lead_ms: number;
  scheduler_interval_ms: number;
  scheduler_lookahead_ms: number;
  reaper_interval_seconds: number;
  job_max_attempts: number;
  stream_ping_interval_seconds: number;
  stream_pong_timeout_seconds: number;
  worker_inactive_seconds: number;
  results_retention_days: number;
  rollup_1m_retention_days: number;
  rollup_1h_retention_days: number;
  rollup_1d_retention_days: number;
}

export const MONITORING_DEFAULTS: MonitoringConfig = {
  monitoring_enabled: true,
  worker_port: 8081,
  worker_host: '',
  host: '0.0.0.0',
  cluster_token: '',
  server_key: '',
  api_keys: [],
  tls_cert_file: '',
  tls_key_file: '',
  lease_timeout_seconds: 45,
  lease_renew_interval_seconds: 10,
  dispatch_lead_ms: 2000,
  scheduler_interval_ms: 1000,
  scheduler_lookahead_ms: 5000,
  reaper_interval_seconds: 5,
  job_max_attempts: 3,
  stream_ping_interval_seconds: 15,
  stream_pong_timeout_seconds: 10,
  worker_inactive_seconds: 90,
  results_retention_days: 30,
  rollup_1m_retention_days: 7,
  rollup_1h_retention_days: 90,
  rollup_1d_retention_days: 730,
};

/** Fills missing keys with their defaults (tests and benches pass partial configs). */
export function monitoringConfig(partial: Partial<MonitoringConfig> = {}): MonitoringConfig {
  const out: MonitoringConfig = { ...MONITORING_DEFAULTS };
  for (const [k, v] of Object.entries(partial)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

export const DAY_MS = 86_400_000;
