import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireServerLock, ServerLockError, serverLockPath } from '../../src/store/index.js';
import { MAIN, spawnServer, tempDir, waitFor, writeConfig, type ServerProcess } from './helpers.js';

/** Ports all chosen by the OS, so that only the database is shared between two servers. */
const OWN_PORTS = { web_port: 0, web_tls_disable: true };

/** The pid of a process that has exited (a real, dead pid). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  expect(pid).toBeGreaterThan(0);
  return pid;
}

function runCli(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [MAIN, ...args], { cwd, env: { ...process.env, NODE_ENV: 'test' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
    proc.once('exit', (code) => resolve({ code, out }));
  });
}

describe('one vantage server per SQLite file (server lock)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  const tmp = () => {
    const t = tempDir('vantage-lock-');
    cleanups.push(t.cleanup);
    return t.dir;
  };
  const started = async (dir: string, config: Record<string, unknown> = {}): Promise<ServerProcess> => {
    const s = await spawnServer(dir, { ...OWN_PORTS, ...config });
    cleanups.push(async () => void (await s.stop()));
    return s;
  };

  it('refuses a second server process on the same file, naming database and the pid; a CLI command still works', async () => {
    const dir = tmp();
    const db = join(dir, 'vantage.db');
    const first = await started(dir);
    const lock = JSON.parse(readFileSync(serverLockPath(db), 'utf8')) as { pid: number; started_at: string };
    expect(lock.pid).toBe(first.proc.pid);
    expect(Number.isNaN(Date.parse(lock.started_at))).toBe(false);

    // Own ports, same database: only the lock can refuse it.
    const cfg = writeConfig(dir, { port: 0, host: '127.0.0.1', database: db, monitoring_enabled: false, health_check_enabled: false, ...OWN_PORTS }, 'second.yml');
    const second = await runCli(['server', '--config', cfg], dir);
    expect(second.code).toBe(2);
    expect(second.out).toContain(`database: ${db} is used by the vantage server with pid ${first.proc.pid}; one server per SQLite file — use PostgreSQL for replicas`);
    // The refused start did not remove the running server's lock.
    expect(JSON.parse(readFileSync(serverLockPath(db), 'utf8'))).toEqual(lock);

    // CLI commands open the file next to the running server without the lock.
    const list = await runCli(['user', 'list', '--database', db], dir);
    expect(list.out).toContain('no users');
    expect(list.code).toBe(0);
    expect(first.proc.exitCode).toBeNull();
  }, 60_000);

  it('takes over a stale lock (dead pid), logs it, and removes the lock after SIGTERM', async () => {
    const dir = tmp();
    const db = join(dir, 'vantage.db');
    const dead = deadPid();
    writeFileSync(serverLockPath(db), JSON.stringify({ pid: dead, started_at: '2026-01-01T00:00:00.000Z' }) + '\n');
    const s = await started(dir);
    await waitFor(() => s.output().includes(`taking over the stale server lock of ${db} (pid ${dead} is not running)`), 'the takeover log line');
    expect((JSON.parse(readFileSync(serverLockPath(db), 'utf8')) as { pid: number }).pid).toBe(s.proc.pid);
    expect(await s.stop()).toBe(0);
    expect(existsSync(serverLockPath(db))).toBe(false);
  }, 60_000);
});

describe('acquireServerLock', () => {
  it('refuses a live holder, takes over a dead one or unreadable content, and releases only its own lock', () => {
    const { dir, cleanup } = tempDir('vantage-lock-unit-');
    try {
      const db = join(dir, 'v.db');
      const alive = new Set<number>([111]);
      const opts = (pid: number) => ({ pid, now: () => 0, isAlive: (p: number) => alive.has(p) });
      const a = acquireServerLock(db, opts(111));
      expect(() => acquireServerLock(db, opts(222))).toThrow(ServerLockError);
      expect(() => acquireServerLock(db, opts(222))).toThrow(`database: ${db} is used by the vantage server with pid 111`);
      alive.delete(111);
      const taken: Array<number | null> = [];
      const b = acquireServerLock(db, { ...opts(222), onTakeover: (s) => taken.push(s.pid) });
      expect(taken).toEqual([111]);
      a.release(); // a's lock was taken over: b's file stays
      expect(JSON.parse(readFileSync(serverLockPath(db), 'utf8'))).toEqual({ pid: 222, started_at: '1970-01-01T00:00:00.000Z' });
      b.release();
      expect(existsSync(serverLockPath(db))).toBe(false);
      writeFileSync(serverLockPath(db), 'garbage');
      const c = acquireServerLock(db, { ...opts(333), onTakeover: (s) => taken.push(s.pid) });
      expect(taken).toEqual([111, null]);
      c.release();
      c.release();
      expect(existsSync(serverLockPath(db))).toBe(false);
      // a lock left under this very pid (a restarted container's server is pid 1 again) is stale, though alive
      alive.add(1);
      writeFileSync(serverLockPath(db), JSON.stringify({ pid: 1, started_at: '1970-01-01T00:00:00.000Z' }));
      expect(() => acquireServerLock(db, opts(444))).toThrow('pid 1');
      const d = acquireServerLock(db, { ...opts(1), onTakeover: (s) => taken.push(s.pid) });
      expect(taken).toEqual([111, null, 1]);
      d.release();
    } finally {
      cleanup();
    }
  });
});
