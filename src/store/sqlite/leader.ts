/**
 * Leader election for the singleton loops (scheduler, reaper, rollups, retention, inactivity).
 * On SQLite there is one server, which is always the leader. The PostgreSQL implementation (later) holds an
 * advisory lock on one dedicated connection and reports leadership changes through `isLeader()`.
 */
export interface LeaderElector {
  /** Current leadership (cached; cheap to call on every tick). */
  isLeader(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class SingleNodeLeader implements LeaderElector {
  isLeader(): boolean {
    return true;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}
