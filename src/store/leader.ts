/**
 * Leader election for the singleton loops (scheduler, reaper, rollups, retention, inactivity): a database
 * concern, so each database folder implements it. On SQLite there is one server, always the leader
 * (./sqlite/leader.ts); the PostgreSQL implementation holds an advisory lock on one dedicated connection and
 * reports leadership changes through `isLeader()`.
 */
export interface LeaderElector {
  /** Current leadership (cached; cheap to call on every tick). */
  isLeader(): boolean;
  /**
   * Asks the database whether this node leads at this moment (fencing before a leader pass); absent where
   * leadership cannot be lost (SQLite: one server).
   */
  confirm?(): Promise<boolean>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
