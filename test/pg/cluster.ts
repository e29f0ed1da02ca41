/**
 * A throwaway PostgreSQL cluster for the PostgreSQL suite: `initdb` + `pg_ctl` in a temp dir, on a free
 * loopback port, with its unix socket dir inside the temp dir. When `DATABASE_URL` is set, that server is used
 * instead and nothing is started.
 *
 * initdb refuses to run as root; as root (CI, these machines) every PostgreSQL binary runs as the `postgres` OS
 * user through `runuser`, and the temp dir is handed to that user.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface Cluster {
  /** postgres://… URL of the cluster's `postgres` database. */
  readonly url: string;
  /** True when this helper started the server (and can stop or restart it). */
  readonly owned: boolean;
  /** A fresh, empty database on the cluster; returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** `pg_ctl restart` (fast mode): every connection is cut, the server is back when this resolves. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server (when owned) and removes its temp dir. */
  destroy(): Promise<void>;
}

/** The directory of initdb/pg_ctl: PG_BIN, else the newest /usr/lib/postgresql/<v>/bin. */
export function pgBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error('PostgreSQL binaries not found: install postgresql or set PG_BIN or DATABASE_URL');
  return join(root, versions[0]!, 'bin');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
async function pgBin(bin: string, args: string[]): Promise<string> {
  const exe = join(pgBinDir(), bin);
  const { stdout } = asRoot ? await run('runuser', ['-u', 'postgres', '--', exe, ...args]) : await run(exe, args);
  return stdout;
}

let dbCounter = 0;

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function createDb(adminUrl: string, prefix: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${dbCounter++}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
  } finally {
    await c.end();
  }
  return withDatabase(adminUrl, name);
}

/**
 * Starts a throwaway cluster, or wraps DATABASE_URL when set. `owned: true` always starts one (for the tests
 * that stop or restart the server, which an external server does not allow).
 */
export async function startCluster(opts: { owned?: boolean } = {}): Promise<Cluster> {
  const external = process.env.DATABASE_URL;
  if (external && opts.owned !== true) {
    return {
      url: external,
      owned: false,
      createDatabase: (prefix = 'vt') => createDb(external, prefix),
      restart: async () => {
        throw new Error('DATABASE_URL is an external server: restart is not possible');
      },
      stop: async () => {
        throw new Error('DATABASE_URL is an external server: stop is not possible');
      },
      start: async () => {},
      destroy: async () => {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'vantage-pg-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const port = await freePort();
  // fsync off: a throwaway cluster needs no power-loss durability, and tests get much faster. A clean
  // `pg_ctl restart` still writes everything before it stops.
  const serverOpts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -F -c max_connections=300 -c shared_buffers=64MB`;
  await pgBin('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const ctl = (action: string, extra: string[] = []) => pgBin('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', ...extra, action]);
  await ctl('start', ['-o', serverOpts]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let running = true;
  return {
    url,
    owned: true,
    createDatabase: (prefix = 'vt') => createDb(url, prefix),
    async restart() {
      await ctl('restart', ['-m', 'fast', '-o', serverOpts]);
      running = true;
    },
    async stop() {
      await ctl('stop', ['-m', 'fast']);
      running = false;
    },
    async start() {
      await ctl('start', ['-o', serverOpts]);
      running = true;
    },
    async destroy() {
      if (running) await ctl('stop', ['-m', 'immediate']).catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One query on a fresh connection (tests inspecting the database directly: catalogs, locks, rows). */
export async function sql<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}
