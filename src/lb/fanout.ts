/**
 * Load-balancer state across replicas (PostgreSQL): applies the registrations, stats, sticky assignments and
 * deletions (purge) that other replicas committed (LbStore.subscribe: NOTIFY, then read back) to this replica's
 * routing engine, so a backend registered or reporting on any replica is routable on every replica within
 * moments, a purged one is gone from every replica, and every replica follows the sticky assignment the
 * database holds (the one winner when two replicas chose at once; see store/lb-sticky.ts). A purge-pending
 * (drop every reservation) is fanned out too; single reservations stay with the replica that made them.
 *
 * Health is not fanned out: every replica probes the backends itself (lb/health), because a health check
 * answers "can this replica reach that backend", which is what its routing needs, and it keeps working when the
 * leader is gone. A backend that goes unhealthy is excluded on every replica within one probe interval.
 */
import type { Logger } from 'pino';
import type { LbRemoteChange, LbStore } from '../store/lb.js';
import type { RoutingEnginePort } from './engine-port.js';
import { toRegistration } from './restore.js';

export function applyRemoteChange(engine: RoutingEnginePort, ch: LbRemoteChange): void {
  // Purged on another replica: gone from the database, so gone here too (with its reservations and assignments).
  for (const id of ch.removedClients) engine.remove(id);
  if (ch.clearReservations === true) engine.clearReservations();
  for (const x of ch.rtt ?? []) engine.latency.recordRtt(x.region, x.clientId, x.rttMs);
  for (const c of ch.clients) engine.register(toRegistration(c), Math.max(c.lastSeen, engine.backend(c.clientId)?.lastSeen ?? 0));
  for (const s of ch.stats) {
    const { clientId, ...rest } = s;
    engine.reportStats(clientId, rest, engine.backend(clientId)?.lastSeen);
  }
  if (ch.sticky.length > 0) engine.restoreSticky(ch.sticky);
}

/** Follows the other replicas' LB changes until the returned function is called (a no-op store on SQLite). */
export function followReplicas(lb: LbStore, engine: RoutingEnginePort, logger?: Logger): () => void {
  if (!lb.subscribe) return () => undefined;
  return lb.subscribe((ch) => {
    try {
      applyRemoteChange(engine, ch);
    } catch (err) {
      logger?.error({ err }, 'applying a change from another replica failed');
    }
  });
}
