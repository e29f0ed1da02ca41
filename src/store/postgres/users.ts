/** The users store on PostgreSQL (interface and rules: ../users.ts). */
import type pg from 'pg';
import { migrate, tx, type Queryable } from './db.js';
import { PG_AUTH_MIGRATIONS } from './migrations/auth.js';
import {
  LastAdminError,
  UsernameTakenError,
  type NewUser,
  type Role,
  type SessionRecord,
  type SessionWithUser,
  type UserRecord,
  type UserStore,
} from '../users.js';
import { sessionFromRow, userFromRow, type SessionRow, type UserRow } from '../user-rows.js';

const UNIQUE_VIOLATION = '23505';

export class PgUserStore implements UserStore {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(pool: pg.Pool): Promise<PgUserStore> {
    await migrate(pool, 'auth', PG_AUTH_MIGRATIONS);
    return new PgUserStore(pool);
  }

  async countUsers(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM users');
    return rows[0]!.n;
  }

  private async insertUser(c: Queryable, u: NewUser, now: number): Promise<UserRecord> {
    try {
      await c.query(
        'INSERT INTO users (id, username, username_key, role, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)',
        [u.id, u.username, u.username.toLowerCase(), u.role, u.password_hash, now],
      );
    } catch (err) {
      if ((err as { code?: string }).code === UNIQUE_VIOLATION) throw new UsernameTakenError(u.username);
      throw err;
    }
    return { ...u, created_at: now, updated_at: now };
  }

  async createUser(u: NewUser, now: number): Promise<UserRecord> {
    return this.insertUser(this.pool, u, now);
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    return rows[0] ? userFromRow(rows[0]) : null;
  }

  async getUserByUsername(username: string): Promise<UserRecord | null> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE username_key = $1', [username.toLowerCase()]);
    return rows[0] ? userFromRow(rows[0]) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users ORDER BY username_key');
    return rows.map(userFromRow);
  }

  /** Locks every admin row (so concurrent demotions and removals queue) and returns their ids. */
  private async lockAdmins(c: pg.PoolClient): Promise<string[]> {
    const { rows } = await c.query<{ id: string }>("SELECT id FROM users WHERE role = 'admin' ORDER BY id FOR UPDATE");
    return rows.map((r) => r.id);
  }

  async setRole(id: string, role: Role, now: number): Promise<UserRecord | null> {
    return tx(this.pool, async (c) => {
      const admins = await this.lockAdmins(c);
      const { rows } = await c.query<UserRow>('SELECT * FROM users WHERE id = $1 FOR UPDATE', [id]);
      const row = rows[0];
      if (!row) return null;
      if (row.role === 'admin' && role !== 'admin' && admins.filter((a) => a !== id).length === 0) throw new LastAdminError();
      await c.query('UPDATE users SET role = $1, updated_at = $2 WHERE id = $3', [role, now, id]);
      return { ...userFromRow(row), role, updated_at: now };
    });
  }

  async setPassword(id: string, passwordHash: string, now: number): Promise<boolean> {
    return tx(this.pool, async (c) => {
      const r = await c.query('UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3', [passwordHash, now, id]);
      if (r.rowCount === 0) return false;
      await c.query('DELETE FROM sessions WHERE user_id = $1', [id]);
      return true;
    });
  }

  async deleteUser(id: string): Promise<boolean> {
    return tx(this.pool, async (c) => {
      const admins = await this.lockAdmins(c);
      const { rows } = await c.query<{ role: string }>('SELECT role FROM users WHERE id = $1 FOR UPDATE', [id]);
      if (!rows[0]) return false;
      if (rows[0].role === 'admin' && admins.filter((a) => a !== id).length === 0) throw new LastAdminError();
      await c.query('DELETE FROM sessions WHERE user_id = $1', [id]);
      await c.query('DELETE FROM users WHERE id = $1', [id]);
      return true;
    });
  }

  async createSession(s: SessionRecord): Promise<void> {
    await this.pool.query('INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5)', [
      s.id_hash,
      s.user_id,
      s.created_at,
      s.expires_at,
      s.last_seen_at,
    ]);
  }

  async getSession(idHash: string, now: number): Promise<SessionWithUser | null> {
    const { rows } = await this.pool.query<SessionRow & UserRow>(
      `SELECT s.id_hash, s.user_id, s.created_at AS s_created_at, s.expires_at, s.last_seen_at,
              u.id, u.username, u.role, u.password_hash, u.created_at, u.updated_at
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id_hash = $1 AND s.expires_at > $2`,
      [idHash, now],
    );
    const row = rows[0];
    return row ? { session: sessionFromRow(row), user: userFromRow(row) } : null;
  }

  async touchSession(idHash: string, now: number): Promise<void> {
    await this.pool.query('UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2', [now, idHash]);
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.pool.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    const r = await this.pool.query('DELETE FROM sessions WHERE expires_at <= $1', [now]);
    return r.rowCount ?? 0;
  }

  async createSetupToken(tokenHash: string, expiresAt: number, now: number): Promise<void> {
    await this.pool.query('INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)', [tokenHash, now, expiresAt]);
  }

  async consumeSetupToken(tokenHash: string, admin: NewUser, now: number): Promise<UserRecord | 'invalid'> {
    return tx(this.pool, async (c) => {
      // Two setups with different tokens at once (two replicas) must not both create an admin.
      await c.query('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
      const used = await c.query('UPDATE setup_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1', [now, tokenHash]);
      if (used.rowCount === 0) return 'invalid' as const;
      // Users exist already: the token is spent without effect (a setup link only ever creates the first admin).
      const { rows } = await c.query<{ n: number }>('SELECT COUNT(*) AS n FROM users');
      if (rows[0]!.n > 0) return 'invalid' as const;
      return this.insertUser(c, { ...admin, role: 'admin' }, now);
    });
  }

  async secret(name: string, generated: string): Promise<string> {
    await this.pool.query('INSERT INTO auth_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, generated]);
    const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM auth_secrets WHERE name = $1', [name]);
    return rows[0]!.value;
  }
}
