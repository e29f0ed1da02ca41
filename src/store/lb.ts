/**
 * The load-balancer part of the store: backends (`clients`), their stats history and sticky assignments.
 *
 * One typed interface, one implementation per database (SQLite now, PostgreSQL later). Every method returns
 * a Promise so that an asynchronous driver fits without touching callers, even though the SQLite
 * implementation completes synchronously. Nothing here is on the routing hot path: the server writes
 * registrations before acknowledging them, and stats/sticky changes behind, in batches (see WriteBehind).
 * Times are milliseconds since the Unix epoch.
 */

import type { BackendStats, EndpointRule, GpuStats, RegisteredBackend, StickyAssignment, StickyEvent } from '../lb/routing/types.js';

// The rows the engine keeps are the rows stored: one definition each, shared with the routing engine, so the
// engine's sticky events go to the store as they are.
export type LbEndpointRule = EndpointRule;

/** A registered backend as stored. */
export interface LbClient extends RegisteredBackend {
  createdAt: number;
  lastSeen: number;
}

export type LbGpuStats = GpuStats;

/** One stats report (a window average) as stored: the engine's report without the location update. */
export interface LbStats extends Omit<BackendStats, 'lat' | 'lon'> {
  clientId: string;
  /** The report's own timestamp (ms). Retention ages rows by it. */
  timestamp: number;
}

export type LbSticky = StickyAssignment;
export type LbStickyChange = StickyEvent;

/** A client's liveness (and optionally location) update that arrives with its stats. */
export interface LbClientTouch {
  clientId: string;
  lastSeen: number;
  /** Present only when the report carried a location. */
  location?: { lat: number | null; lon: number | null };
}

/** What the write-behind queue hands to the store in one transaction. */
export interface LbWriteBatch {
  stats: readonly LbStats[];
  touches: readonly LbClientTouch[];
  sticky: readonly LbStickyChange[];
}

/** One backend-probe round trip (region → backend), as the latency matrix records it. */
export interface LbRttSample {
  region: string;
  clientId: string;
  rttMs: number;
}

/** What a batch found in the database beyond what it wrote. */
export interface LbWriteResult {
  /**
   * For each `set` whose (sticky_id, tier) another replica holds on a different backend (see StickyEvent):
   * the assignment the database holds, which the writer adopts. Empty on a single server.
   */
  adopted: LbSticky[];
}

/**
 * What another replica changed (PostgreSQL: announced with NOTIFY, read back from the database): backends
 * registered or updated, their newest stats, and sticky assignments set or removed. `full` marks a complete
 * snapshot (sent after the notification connection was re-established, when changes may have been missed).
 */
export interface LbRemoteChange {
  clients: LbClient[];
  stats: LbStats[];
  sticky: LbSticky[];
  removedSticky: Array<{ stickyId: string; tier: string }>;
  /** Backends another replica deleted (purge): dropped here too, with their reservations and assignments. */
  removedClients: string[];
  /** Another replica dropped every reservation (purge-pending): drop this replica's too. */
  clearReservations?: boolean;
  /** Backend-probe round trips another replica ingested (its workers' streams): fed into this latency matrix. */
  rtt?: LbRttSample[];
  full: boolean;
}

export interface LbStore {
  /** Inserts or updates a backend (created_at is kept on update). Durable once the promise resolves. */
  upsertClient(client: LbClient): Promise<void>;
  /**
   * Deletes backends with their stats and sticky assignments. Returns how many backends were deleted. On
   * PostgreSQL the deletion is announced: every other replica drops those backends from its engine.
   */
  deleteClients(clientIds: readonly string[]): Promise<number>;
  /**
   * Applies one batch atomically. Rows that refer to a backend no longer stored (purged meanwhile) are skipped,
   * never an error. Sticky changes follow StickyEvent's rules: one winner per (sticky_id, tier), reported back
   * in `adopted` when it is not the writer's choice.
   */
  writeBatch(batch: LbWriteBatch): Promise<LbWriteResult | void>;
  /**
   * Tells the other replicas that every reservation was dropped (purge-pending); reservations live in each
   * replica's memory. Absent on SQLite (one server).
   */
  announceClearReservations?(): Promise<void>;
  /**
   * Tells the other replicas the probe round trips this one ingested (the latency matrix lives in each
   * replica's memory; the results reach only the replica of the worker's stream). Absent on SQLite.
   */
  announceRtt?(samples: readonly LbRttSample[]): Promise<void>;
  /** Deletes at most `limit` stats rows with timestamp < cutoffMs; returns how many. */
  deleteStatsBefore(cutoffMs: number, limit: number): Promise<number>;
  listClients(): Promise<LbClient[]>;
  /** The newest stats row of every backend that has one. */
  latestStats(): Promise<LbStats[]>;
  listSticky(): Promise<LbSticky[]>;
  /** Number of stats rows (of one backend, or of all). */
  countStats(clientId?: string): Promise<number>;
  /**
   * Changes written by other replicas on the same database, as they commit (absent on SQLite: one server).
   * Returns the unsubscribe function.
   */
  subscribe?(fn: (change: LbRemoteChange) => void): () => void;
}
