/**
 * One `vantage server` per SQLite file. SQLite has no leader election (sqlite/leader.ts: the one server is always
 * the leader), so a second server on the same file would schedule, send and clean up as a second leader. The
 * server takes `<file>.server.lock` (created exclusively, holding its pid and start time) before it opens the
 * database; a lock whose pid is still alive refuses the start, a lock whose pid is gone is taken over. CLI
 * commands that open the file next to a running server (user add, worker token, …) do not take it.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

export const ServerLockFileSchema = z.object({
  pid: z.number().int().positive(),
  started_at: z.string(),
});
export type ServerLockFile = z.infer<typeof ServerLockFileSchema>;

/** The start was refused: another live server holds the file (a configuration problem naming `database`). */
export class ServerLockError extends Error {
  constructor(
    message: string,
    readonly pid: number,
  ) {
    super(message);
    this.name = 'ServerLockError';
  }
}

export interface ServerLock {
  readonly path: string;
  /** Removes the lock file when it is still ours. Idempotent. */
  release(): void;
}

export interface ServerLockOptions {
  /** This process's pid (default process.pid). */
  pid?: number;
  /** Clock in ms for started_at (default Date.now). */
  now?: () => number;
  /** Whether a pid is a running process (default: process.kill(pid, 0)). */
  isAlive?: (pid: number) => boolean;
  /** Called when a stale lock (dead pid, or unreadable content) is taken over. */
  onTakeover?: (stale: { pid: number | null; content: string }) => void;
}

export function serverLockPath(database: string): string {
  return `${database}.server.lock`;
}

/** A pid is alive when signal 0 can be sent to it, or when it exists but belongs to another user (EPERM). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): { content: string; parsed: ServerLockFile | null } | null {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let json: unknown = null;
  try {
    json = JSON.parse(content);
  } catch {
    json = null;
  }
  const parsed = ServerLockFileSchema.safeParse(json);
  return { content, parsed: parsed.success ? parsed.data : null };
}

/**
 * Takes the server lock of a SQLite database file; throws ServerLockError when a live server holds it.
 * `:memory:` databases need no lock (nothing else can open them).
 */
export function acquireServerLock(database: string, opts: ServerLockOptions = {}): ServerLock {
  const path = serverLockPath(database);
  const pid = opts.pid ?? process.pid;
  const isAlive = opts.isAlive ?? pidAlive;
  const content = JSON.stringify({ pid, started_at: new Date((opts.now ?? Date.now)()).toISOString() } satisfies ServerLockFile) + '\n';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, content, { flag: 'wx', mode: 0o644 });
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          // Only our own lock is removed (a lock file replaced by hand is left alone).
          if (readLock(path)?.content === content) unlinkSync(path);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = readLock(path);
    if (held === null) continue; // released between our attempt and the read: try again
    // A lock naming this very pid was left by an earlier run under the same pid (a container restarted: the
    // server is pid 1 again), so it is stale like a dead one.
    if (held.parsed !== null && held.parsed.pid !== pid && isAlive(held.parsed.pid)) {
      throw new ServerLockError(
        `database: ${database} is used by the vantage server with pid ${held.parsed.pid}; one server per SQLite file — use PostgreSQL for replicas`,
        held.parsed.pid,
      );
    }
    opts.onTakeover?.({ pid: held.parsed?.pid ?? null, content: held.content });
    // Remove the stale lock only if it is still the one we judged (another starter may have taken it over).
    if (readLock(path)?.content === held.content) {
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  throw new Error(`database: could not take the server lock ${path} (it kept changing)`);
}
