/**
 * Real `vantage server` processes (dist/cli/main.js; `npm run build` first) for the multi-replica tests: each on
 * its own free ports, all on one database, with their output collected for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './cluster.js';

const MAIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

export interface Replica {
  readonly name: string;
  readonly port: number;
  readonly workerPort: number;
  readonly url: string;
  readonly proc: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export async function startReplica(opts: { name: string; database: string; args?: string[]; env?: Record<string, string> }): Promise<Replica> {
  const port = await freePort();
  const workerPort = await freePort();
  const proc = spawn(
    process.execPath,
    // The web port on 0 too: replicas on one host cannot all have the default 8082.
    [MAIN, 'server', '--host', '127.0.0.1', '--port', String(port), '--worker-port', String(workerPort), '--web-port', '0', '--database', opts.database, ...(opts.args ?? [])],
    {
      env: { ...process.env, VANTAGE_PORT: undefined, VANTAGE_WORKER_PORT: undefined, VANTAGE_DATABASE: undefined, VANTAGE_JSON_LOGGING: 'true', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
  return {
    name: opts.name,
    port,
    workerPort,
    url: `http://127.0.0.1:${port}`,
    proc,
    output: () => out,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** GET/POST JSON against a replica; never throws for a refused connection (status 0). */
export async function http(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: unknown }> {
  try {
    const res = await fetch(url, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json', ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body };
  } catch {
    return { status: 0, body: null };
  }
}

/** Resolves with `p`, or rejects naming `what` once `ms` have passed (every wait in a test gets its own bound). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
