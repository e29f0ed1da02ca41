import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { LbStore } from '../../store/lb.js';
import type { RoutingEnginePort } from '../engine-port.js';
import type { GeoLookup } from '../geoip.js';
import type { ServerMetrics } from '../metrics.js';
import type { WriteBehind } from '../write-behind.js';

/** What the management API handlers need. */
export interface ApiDeps {
  engine: RoutingEnginePort;
  lb: LbStore;
  writeBehind: WriteBehind;
  metrics: ServerMetrics;
  registry: Registry;
  geo: GeoLookup | null;
  logger: Logger;
  now: () => number;
  /** Lower-cased sticky header name, or null when sticky sessions by header are off. */
  stickyHeader: string | null;
  /** `sticky_by_ip`: without a sticky id, the client address is one (body `client_ip`, else the caller's). */
  stickyByIp: boolean;
  /** Retry-After seconds on 503 no-capacity answers. */
  retryAfterSeconds: number;
  /**
   * While set, POST /route waits for it before deciding (bounded by its producer): `npm start` holds the first
   * requests until the local agent's backend has reported, so they do not see an empty fleet. Null afterwards.
   */
  routeGate: Promise<void> | null;
  /** Time (ms) of a backend's last active health check, null when none yet; set once the checker runs. */
  lastHealthCheck: (clientId: string) => number | null;
  /** The database's reachability (PostgreSQL); absent = always reachable (SQLite). /health answers 503 while down. */
  databaseDown?: () => string | null;
}
