/** Contract scenarios of LeaderElector: a store alone on its database becomes the leader, and stops cleanly. */
import { describe, expect, it } from 'vitest';
import type { ContractContext } from './index.js';

export function leaderScenarios(ctx: ContractContext): void {
  describe('leader', () => {
    it('the only server on a database is the leader once started; start and stop can be called again', async () => {
      const leader = ctx.stores().leader;
      await leader.start();
      expect(leader.isLeader()).toBe(true);
      await leader.start();
      expect(leader.isLeader()).toBe(true);
      await leader.stop();
      await leader.stop();
    });
  });
}
