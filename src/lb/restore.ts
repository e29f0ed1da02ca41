import type { Logger } from 'pino';
import type { LbStore } from '../store/lb.js';
import type { RoutingEnginePort } from './engine-port.js';

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
  for (const c of clients) {
    engine.register(
      {
        clientId: c.clientId,
        hostname: c.hostname,
        endpoint: c.endpoint,
        publicIp: c.publicIp,
        localIp: c.localIp,
        lat: c.lat,
        lon: c.lon,
        country: c.country,
        city: c.city,
        totalCpu: c.totalCpu,
        totalMemoryGb: c.totalMemoryGb,
        totalStorageGb: c.totalStorageGb,
        totalGpus: c.totalGpus,
        gpuModels: c.gpuModels,
        endpoints: c.endpoints,
      },
      c.lastSeen,
    );
  }
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
