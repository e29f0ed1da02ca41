/** The users store on SQLite (interface and rules: ../users.ts). */
import type { SqliteDb } from './db.js';
import { migrate } from './db.js';
import { AUTH_MIGRATIONS } from './migrations/auth.js';
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

export class SqliteUserStore implements UserStore {
  constructor(private readonly db: SqliteDb) {
    migrate(db, 'auth', AUTH_MIGRATIONS);
  }

  async countUsers(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }

  private insertUser(u: NewUser, now: number): UserRecord {
    try {
      this.db
        .prepare('INSERT INTO users (id, username, username_key, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(u.id, u.username, u.username.toLowerCase(), u.role, u.password_hash, now, now);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new UsernameTakenError(u.username);
      throw err;
    }
    return { ...u, created_at: now, updated_at: now };
  }

  async createUser(u: NewUser, now: number): Promise<UserRecord> {
    return this.insertUser(u, now);
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row ? userFromRow(row) : null;
  }

  async getUserByUsername(username: string): Promise<UserRecord | null> {
    const row = this.db.prepare('SELECT * FROM users WHERE username_key = ?').get(username.toLowerCase()) as UserRow | undefined;
    return row ? userFromRow(row) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    return (this.db.prepare('SELECT * FROM users ORDER BY username_key').all() as UserRow[]).map(userFromRow);
  }

  private otherAdmins(id: string): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND id <> ?").get(id) as { n: number }).n;
  }

  async setRole(id: string, role: Role, now: number): Promise<UserRecord | null> {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
      if (!row) return null;
      if (row.role === 'admin' && role !== 'admin' && this.otherAdmins(id) === 0) throw new LastAdminError();
      this.db.prepare('UPDATE users SET role = ?, updated_at = ? WHERE id = ?').run(role, now, id);
      return { ...userFromRow(row), role, updated_at: now };
    }).immediate();
  }

  async setPassword(id: string, passwordHash: string, now: number): Promise<boolean> {
    return this.db.transaction(() => {
      const r = this.db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?').run(passwordHash, now, id);
      if (r.changes === 0) return false;
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(id);
      return true;
    }).immediate();
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT role FROM users WHERE id = ?').get(id) as { role: string } | undefined;
      if (!row) return false;
      if (row.role === 'admin' && this.otherAdmins(id) === 0) throw new LastAdminError();
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(id);
      this.db.prepare('DELETE FROM users WHERE id = ?').run(id);
      return true;
    }).immediate();
  }

  async createSession(s: SessionRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)')
      .run(s.id_hash, s.user_id, s.created_at, s.expires_at, s.last_seen_at);
  }

  async getSession(idHash: string, now: number): Promise<SessionWithUser | null> {
    const row = this.db
      .prepare(
        `SELECT s.id_hash, s.user_id, s.created_at AS s_created_at, s.expires_at, s.last_seen_at,
                u.id, u.username, u.role, u.password_hash, u.created_at, u.updated_at
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id_hash = ? AND s.expires_at > ?`,
      )
      .get(idHash, now) as (SessionRow & UserRow) | undefined;
    return row ? { session: sessionFromRow(row), user: userFromRow(row) } : null;
  }

  async touchSession(idHash: string, now: number): Promise<void> {
    this.db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?').run(now, idHash);
  }

  async deleteSession(idHash: string): Promise<void> {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    return this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now).changes;
  }

  async createSetupToken(tokenHash: string, expiresAt: number, now: number): Promise<void> {
    this.db.prepare('INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)').run(tokenHash, now, expiresAt);
  }

  async consumeSetupToken(tokenHash: string, admin: NewUser, now: number): Promise<UserRecord | 'invalid'> {
    return this.db.transaction((): UserRecord | 'invalid' => {
      const used = this.db
        .prepare('UPDATE setup_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?')
        .run(now, tokenHash, now);
      if (used.changes === 0) return 'invalid';
      // Users exist already: the token is spent without effect (a setup link only ever creates the first admin).
      if ((this.db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n > 0) return 'invalid';
      return this.insertUser({ ...admin, role: 'admin' }, now);
    }).immediate();
  }

  async secret(name: string, generated: string): Promise<string> {
    this.db.prepare('INSERT INTO auth_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(name, generated);
    return (this.db.prepare('SELECT value FROM auth_secrets WHERE name = ?').get(name) as { value: string }).value;
  }
}
