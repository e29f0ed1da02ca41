/**
 * What one replica's LB store announces, another's receives (two stores on one database, as two replicas):
 * purged backends, purge-pending, and backend-probe round trips for the latency matrix — and that the
 * engine applies them (applyRemoteChange).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type OpenedStore } from '../../src/store/index.js';
import type { LbRemoteChange } from '../../src/store/lb.js';
import { applyRemoteChange } from '../../src/lb/fanout.js';
import { RoutingEngine } from '../../src/lb/routing/engine.js';
import { DEFAULT_TIERS } from '../../src/config/tiers.js';
import { client } from '../store/contract/fixtures.js';
import { waitFor } from '../monitoring/helpers.js';
import { startCluster, type Cluster } from './cluster.js';

let cluster: Cluster;
let a: OpenedStore;
let b: OpenedStore;
const changes: LbRemoteChange[] = [];
let off: () => void = () => undefined;

beforeAll(async () => {
  cluster = await startCluster();
  const url = await cluster.createDatabase('fanout');
  [a, b] = await Promise.all([openStore({ database: url, db_max_open_conns: 2 }), openStore({ database: url, db_max_open_conns: 2 })]);
  off = b!.lb.subscribe!((ch) => changes.push(ch));
  // b listens once a registration announced by a arrives (announced again until then: b connects in the background)
  await waitFor(
    async () => {
      await a!.lb.upsertClient(client('probe'));
      await new Promise((r) => setTimeout(r, 50));
      return changes.some((c) => c.clients.some((x) => x.clientId === 'probe'));
    },
    { timeoutMs: 10_000, what: 'the LISTEN connection' },
  );
});
afterAll(async () => {
  off();
  await Promise.all([a?.close(), b?.close()]);
  await cluster?.destroy();
});

describe('LB fan-out between two stores', () => {
  it('a purge (deleteClients) names the backends; the receiving engine drops them', async () => {
    await a.lb.upsertClient(client('gone'));
    const engine = new RoutingEngine({ tiers: DEFAULT_TIERS, staleMinutes: 5, pendingTimeoutSeconds: 60, stickyAffinity: true, healthCheckEnabled: false });
    engine.register({ ...client('gone') });
    expect(await a.lb.deleteClients(['gone'])).toBe(1);
    const ch = await waitFor(() => changes.find((c) => c.removedClients.includes('gone')), { timeoutMs: 2_000, what: 'the removal' });
    applyRemoteChange(engine, ch);
    expect(engine.backend('gone')).toBeUndefined();
  });

  it('probe round trips and purge-pending reach the other replica; the engine records the round trips', async () => {
    await a.lb.announceRtt!([
      { region: 'eu', clientId: 'probe', rttMs: 12.5 },
      { region: 'us', clientId: 'probe', rttMs: 80 },
    ]);
    await a.lb.announceClearReservations!();
    const rtt = await waitFor(() => changes.find((c) => (c.rtt?.length ?? 0) > 0), { timeoutMs: 2_000, what: 'the round trips' });
    expect(rtt.rtt).toEqual([
      { region: 'eu', clientId: 'probe', rttMs: 12.5 },
      { region: 'us', clientId: 'probe', rttMs: 80 },
    ]);
    await waitFor(() => changes.some((c) => c.clearReservations === true), { timeoutMs: 2_000, what: 'purge-pending' });
    const engine = new RoutingEngine({ tiers: DEFAULT_TIERS, staleMinutes: 5, pendingTimeoutSeconds: 60, stickyAffinity: true, healthCheckEnabled: false });
    engine.register({ ...client('probe') });
    applyRemoteChange(engine, rtt);
    expect(engine.latency.entries().map((e) => [e.region, e.backendId, e.rttMs])).toEqual([
      ['eu', 'probe', 12.5],
      ['us', 'probe', 80],
    ]);
  });
});
