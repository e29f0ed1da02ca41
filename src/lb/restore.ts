import type { Logger } from 'pino';
import type { LbClient, LbStore } from '../store/lb.js';
import type { BackendRegistration } from './routing/types.js';
import type { RoutingEnginePort } from './engine-port.js';

/** The engine's registration of a stored backend. */
export function toRegistration(c: LbClient): BackendRegistration {
  const { createdAt: _created, lastSeen: _seen, ...reg } = c;
  return reg;
}

/**
 * Rebuilds the in-memory fleet from the database on start: every backend with its last-seen time, its latest
 * stats window and the sticky assignments, so that a restarted server routes as before. (Reservations are
 * short-lived and not persisted; health status is re-probed.)
 */
export async function restoreFleet(
  lb: LbStore,
  engine: RoutingEnginePort,
  logger?: Logger,
): Promise<{ clients: number; stats: number; sticky: number }> {
  const clients = await lb.listClients();
  for (const c of clients) engine.register(toRegistration(c), c.lastSeen);
  const lastSeen = new Map(clients.map((c) => [c.clientId, c.lastSeen]));
  let stats = 0;
  for (const s of await lb.latestStats()) {
    const { clientId, ...rest } = s;
    if (engine.reportStats(clientId, rest, lastSeen.get(clientId))) stats += 1;
  }
  const sticky = await lb.listSticky();
  engine.restoreSticky(sticky);
  logger?.debug({ clients: clients.length, stats, sticky: sticky.length }, 'fleet restored from the database');
  return { clients: clients.length, stats, sticky: sticky.length };
}
