/**
 * A sticky choice is acknowledged only as the one winner across replicas. After the engine picks for a
 * (sticky_id, tier) whose assignment this replica has not yet confirmed in the database, the pick waits for the
 * write-behind commit (write-behind.ts `commitSticky`); when another replica's choice won there, the engine has
 * adopted the winner, so this pick is released and the request routed again, now to the winner (or, when the
 * winner cannot take it here, to a new pick that moves the assignment, committed the same way).
 *
 * Used by `POST /route` and by the reverse proxy, so both answer a new session with the same backend on every
 * replica. A confirmed assignment returns synchronously: no database round trip on a known sticky id.
 */
import type { RoutingEnginePort } from './engine-port.js';
import type { RouteDecision, RouteRequest } from './routing/types.js';
import type { WriteBehind } from './write-behind.js';

/** Re-routes of one request after its sticky choice lost to another replica's (each needs a new loser). */
export const MAX_STICKY_ROUNDS = 3;

export interface StickySettleDeps {
  engine: Pick<RoutingEnginePort, 'route' | 'release' | 'stickyOf'>;
  writeBehind: Pick<WriteBehind, 'commitSticky'>;
}

/** The decision to answer with: `decision` itself when nothing waits, else a promise of the settled one. */
export function settleSticky(d: StickySettleDeps, req: RouteRequest, decision: RouteDecision): RouteDecision | Promise<RouteDecision> {
  const stickyId = req.stickyId;
  if (!decision.ok || stickyId === null || stickyId === undefined) return decision;
  const commit = d.writeBehind.commitSticky(stickyId, decision.tier);
  if (commit === null) return decision;
  return commit.then(() => afterCommit(d, req, stickyId, decision, 0));
}

async function afterCommit(d: StickySettleDeps, req: RouteRequest, stickyId: string, decision: RouteDecision, round: number): Promise<RouteDecision> {
  if (!decision.ok) return decision;
  const held = d.engine.stickyOf(stickyId, decision.tier);
  if (held === undefined || held.clientId === decision.clientId || round >= MAX_STICKY_ROUNDS) return decision;
  d.engine.release(decision.reservationId);
  const again = d.engine.route(req);
  const commit = again.ok ? d.writeBehind.commitSticky(stickyId, again.tier) : null;
  if (commit !== null) await commit;
  return afterCommit(d, req, stickyId, again, round + 1);
}
