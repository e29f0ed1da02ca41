/**
 * Contract scenarios of UserStore: users and roles, case-insensitive usernames, the last admin kept, sessions
 * (expiry, removal with the user, all dropped on a password change), one-time setup tokens (also under
 * concurrent use) and generated secrets agreed once.
 */
import { describe, expect, it } from 'vitest';
import { LastAdminError, UsernameTakenError, type NewUser } from '../../../src/store/users.js';
import type { ContractContext } from './index.js';

const user = (id: string, username: string, role: NewUser['role'] = 'viewer'): NewUser => ({ id, username, role, password_hash: `hash-${id}` });
const T0 = 1_800_000_000_000;

export function userScenarios(ctx: ContractContext): void {
  describe('users', () => {
    it('creates, finds (username in any case), lists by username and refuses a taken username', async () => {
      const s = ctx.stores().users;
      expect(await s.countUsers()).toBe(0);
      await s.createUser(user('u2', 'Zed', 'admin'), T0);
      await s.createUser(user('u1', 'amy'), T0 + 1);
      expect(await s.countUsers()).toBe(2);
      expect((await s.getUserByUsername('zED'))?.id).toBe('u2');
      expect(await s.getUserByUsername('nobody')).toBeNull();
      expect((await s.getUser('u1'))).toMatchObject({ username: 'amy', role: 'viewer', password_hash: 'hash-u1', created_at: T0 + 1 });
      expect((await s.listUsers()).map((u) => u.username)).toEqual(['amy', 'Zed']);
      await expect(s.createUser(user('u3', 'AMY'), T0)).rejects.toBeInstanceOf(UsernameTakenError);
    });

    it('changes roles but never demotes or removes the last admin', async () => {
      const s = ctx.stores().users;
      await s.createUser(user('a', 'admin', 'admin'), T0);
      await s.createUser(user('b', 'bob', 'viewer'), T0);
      await expect(s.setRole('a', 'editor', T0)).rejects.toBeInstanceOf(LastAdminError);
      await expect(s.deleteUser('a')).rejects.toBeInstanceOf(LastAdminError);
      expect((await s.setRole('b', 'admin', T0 + 5))).toMatchObject({ role: 'admin', updated_at: T0 + 5 });
      expect((await s.setRole('a', 'viewer', T0 + 6))?.role).toBe('viewer');
      expect(await s.setRole('missing', 'admin', T0)).toBeNull();
      expect(await s.deleteUser('a')).toBe(true);
      expect(await s.deleteUser('a')).toBe(false);
      expect(await s.countUsers()).toBe(1);
    });

    it('two concurrent demotions of two admins leave one admin', async () => {
      const s = ctx.stores().users;
      await s.createUser(user('a', 'a', 'admin'), T0);
      await s.createUser(user('b', 'b', 'admin'), T0);
      const results = await Promise.allSettled([s.setRole('a', 'viewer', T0), s.setRole('b', 'viewer', T0)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await s.listUsers()).filter((u) => u.role === 'admin')).toHaveLength(1);
    });

    it('sessions: found while live with their user, gone after expiry, logout, password change or removal', async () => {
      const s = ctx.stores().users;
      await s.createUser(user('a', 'a', 'admin'), T0);
      await s.createUser(user('b', 'b', 'editor'), T0);
      const sess = (id: string, userId: string, expires = T0 + 1000) => ({ id_hash: id, user_id: userId, created_at: T0, expires_at: expires, last_seen_at: T0 });
      await s.createSession(sess('s1', 'b'));
      await s.createSession(sess('s2', 'b'));
      await s.createSession(sess('s3', 'a', T0 + 10));
      const found = await s.getSession('s1', T0 + 1);
      expect(found?.user).toMatchObject({ id: 'b', role: 'editor' });
      expect(found?.session).toMatchObject({ id_hash: 's1', expires_at: T0 + 1000 });
      await s.touchSession('s1', T0 + 50);
      expect((await s.getSession('s1', T0 + 60))?.session.last_seen_at).toBe(T0 + 50);
      expect(await s.getSession('s3', T0 + 10)).toBeNull();
      expect(await s.deleteExpiredSessions(T0 + 10)).toBe(1);
      await s.deleteSession('s2');
      expect(await s.getSession('s2', T0 + 1)).toBeNull();
      await s.createSession(sess('s4', 'b'));
      expect(await s.setPassword('b', 'new-hash', T0 + 2)).toBe(true);
      expect((await s.getUser('b'))?.password_hash).toBe('new-hash');
      expect(await s.getSession('s1', T0 + 3)).toBeNull();
      expect(await s.getSession('s4', T0 + 3)).toBeNull();
      expect(await s.setPassword('missing', 'x', T0)).toBe(false);
      await s.createSession(sess('s5', 'b'));
      await s.deleteUser('b');
      expect(await s.getSession('s5', T0 + 3)).toBeNull();
    });

    it('a setup token creates the first admin once, not after expiry, not when users exist', async () => {
      const s = ctx.stores().users;
      await s.createSetupToken('tok', T0 + 3_600_000, T0);
      await s.createSetupToken('old', T0 + 10, T0);
      expect(await s.consumeSetupToken('old', user('x', 'x'), T0 + 10)).toBe('invalid');
      expect(await s.consumeSetupToken('nope', user('x', 'x'), T0)).toBe('invalid');
      const admin = await s.consumeSetupToken('tok', user('a', 'root', 'viewer'), T0 + 5);
      expect(admin).toMatchObject({ id: 'a', username: 'root', role: 'admin' });
      expect(await s.consumeSetupToken('tok', user('b', 'again'), T0 + 6)).toBe('invalid');
      await s.createSetupToken('late', T0 + 3_600_000, T0 + 7);
      expect(await s.consumeSetupToken('late', user('c', 'late'), T0 + 8)).toBe('invalid');
      expect(await s.countUsers()).toBe(1);
    });

    it('concurrent setups with one token or with two tokens create exactly one admin', async () => {
      const s = ctx.stores().users;
      await s.createSetupToken('t1', T0 + 3_600_000, T0);
      await s.createSetupToken('t2', T0 + 3_600_000, T0);
      const results = await Promise.all([
        s.consumeSetupToken('t1', user('a', 'a'), T0 + 1),
        s.consumeSetupToken('t1', user('b', 'b'), T0 + 1),
        s.consumeSetupToken('t2', user('c', 'c'), T0 + 1),
      ]);
      expect(results.filter((r) => r !== 'invalid')).toHaveLength(1);
      expect(await s.countUsers()).toBe(1);
    });

    it('a secret is stored once; later and concurrent calls get the first value', async () => {
      const s = ctx.stores().users;
      const [a, b] = await Promise.all([s.secret('session_secret', 'first'), s.secret('session_secret', 'second')]);
      expect(a).toBe(b);
      expect(await s.secret('session_secret', 'third')).toBe(a);
      expect(await s.secret('other', 'x')).toBe('x');
    });
  });
}
