import type { LeaderElector } from '../leader.js';

/** Leader election on SQLite: one server owns the database file, so it is always the leader. */
export class SingleNodeLeader implements LeaderElector {
  isLeader(): boolean {
    return true;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}
