/**
 * The users store (component "auth"): web users with a role, their sessions, the one-time setup tokens that
 * create the first admin, and generated secrets (the session signing key). Each database folder implements
 * it (./sqlite/users.ts, ./postgres/users.ts) and passes test/store/contract/users.ts.
 *
 * Secrets never stored in the clear: passwords are scrypt hashes (auth/password.ts), session and setup token
 * rows are keyed by the SHA-256 of the token, so a copy of the database cannot be replayed as a cookie.
 */

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface UserRecord {
  id: string;
  username: string;
  role: Role;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

export interface NewUser {
  id: string;
  username: string;
  role: Role;
  password_hash: string;
}

export interface SessionRecord {
  /** SHA-256 (hex) of the cookie's token id. */
  id_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
}

/** A session joined with its user (what a request authenticated by a cookie acts as). */
export interface SessionWithUser {
  session: SessionRecord;
  user: UserRecord;
}

/** Thrown by createUser when the username is taken (usernames compare case-insensitively). */
export class UsernameTakenError extends Error {
  constructor(readonly username: string) {
    super(`username "${username}" is taken`);
    this.name = 'UsernameTakenError';
  }
}

/** Why a change was refused: it would leave no admin. */
export class LastAdminError extends Error {
  constructor() {
    super('the last admin cannot be removed or demoted; make another user admin first');
    this.name = 'LastAdminError';
  }
}

export interface UserStore {
  countUsers(): Promise<number>;
  /** Throws UsernameTakenError when the username exists (any case). */
  createUser(u: NewUser, now: number): Promise<UserRecord>;
  getUser(id: string): Promise<UserRecord | null>;
  /** Case-insensitive. */
  getUserByUsername(username: string): Promise<UserRecord | null>;
  /** Ordered by username. */
  listUsers(): Promise<UserRecord[]>;
  /** Null when the user does not exist; throws LastAdminError when it would demote the last admin. */
  setRole(id: string, role: Role, now: number): Promise<UserRecord | null>;
  /** Sets the password hash and deletes every session of the user, in one transaction. False when absent. */
  setPassword(id: string, passwordHash: string, now: number): Promise<boolean>;
  /** Deletes the user and its sessions; throws LastAdminError for the last admin. False when absent. */
  deleteUser(id: string): Promise<boolean>;

  createSession(s: SessionRecord): Promise<void>;
  /** The live session (expires_at > now) and its user, or null. */
  getSession(idHash: string, now: number): Promise<SessionWithUser | null>;
  touchSession(idHash: string, now: number): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  /** Deletes expired sessions; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>;

  /** Stores a setup token (by hash) valid until expiresAt. */
  createSetupToken(tokenHash: string, expiresAt: number, now: number): Promise<void>;
  /**
   * Uses a setup token and creates the first admin, atomically: only when the token exists, is unused and
   * unexpired, and no user exists yet. 'invalid' otherwise (nothing changes); UsernameTakenError cannot occur.
   */
  consumeSetupToken(tokenHash: string, admin: NewUser, now: number): Promise<UserRecord | 'invalid'>;

  /**
   * The secret stored under `name`, storing `generated` first when there is none: concurrent first starts of
   * several replicas agree on the one that was stored first.
   */
  secret(name: string, generated: string): Promise<string>;
}

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

/** True when `role` is at least `min` (viewer < editor < admin). */
export function roleAtLeast(role: Role, min: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(min);
}
