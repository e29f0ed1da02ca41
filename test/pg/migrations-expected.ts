/** Every (component, version) the PostgreSQL stores apply, from the migration lists themselves. */
import { PG_ALERTS_MIGRATIONS } from '../../src/store/postgres/migrations/alerts.js';
import { PG_AUTH_MIGRATIONS } from '../../src/store/postgres/migrations/auth.js';
import { PG_DASHBOARD_MIGRATIONS } from '../../src/store/postgres/migrations/dashboard.js';
import { PG_LB_MIGRATIONS } from '../../src/store/postgres/migrations/lb.js';
import { PG_MONITORING_MIGRATIONS } from '../../src/store/postgres/migrations/monitoring.js';
import { PG_PKI_MIGRATIONS } from '../../src/store/postgres/migrations/pki.js';
import { PG_STATUS_MIGRATIONS } from '../../src/store/postgres/migrations/status-pages.js';

const BY_COMPONENT = {
  alerts: PG_ALERTS_MIGRATIONS,
  auth: PG_AUTH_MIGRATIONS,
  dashboard: PG_DASHBOARD_MIGRATIONS,
  lb: PG_LB_MIGRATIONS,
  monitoring: PG_MONITORING_MIGRATIONS,
  pki: PG_PKI_MIGRATIONS,
  status: PG_STATUS_MIGRATIONS,
} as const;

/** Sorted by component, then version, as `ORDER BY component, version` returns them. */
export const EXPECTED_MIGRATIONS: { component: string; version: number }[] = Object.entries(BY_COMPONENT)
  .flatMap(([component, list]) => list.map((m) => ({ component, version: m.version })))
  .sort((a, b) => (a.component < b.component ? -1 : a.component > b.component ? 1 : a.version - b.version));
