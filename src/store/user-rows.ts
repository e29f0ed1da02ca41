/** The users store's row mapping, shared by the SQLite and PostgreSQL implementations. */
import { isRole, type SessionRecord, type UserRecord } from './users.js';

export interface UserRow {
  id: string;
  username: string;
  role: string;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

export interface SessionRow {
  id_hash: string;
  user_id: string;
  s_created_at: number;
  expires_at: number;
  last_seen_at: number;
}

export function userFromRow(r: UserRow): UserRecord {
  // The column has a CHECK constraint; an unknown value would mean a newer schema, read as the least privilege.
  const role = isRole(r.role) ? r.role : 'viewer';
  return { id: r.id, username: r.username, role, password_hash: r.password_hash, created_at: r.created_at, updated_at: r.updated_at };
}

export function sessionFromRow(r: SessionRow): SessionRecord {
  return { id_hash: r.id_hash, user_id: r.user_id, created_at: r.s_created_at, expires_at: r.expires_at, last_seen_at: r.last_seen_at };
}
