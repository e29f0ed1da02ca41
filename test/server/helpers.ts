import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { ServerConfigSchema, type ServerConfig } from '../../src/config/server.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN = join(REPO, 'dist/cli/main.js');

export function tempDir(prefix = 'vantage-server-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The config of an in-process test server (startServer): loopback, a free port, SQLite in `dir`, no
 * monitoring, no health checks; `over` sets any other key.
 */
export function testServerConfig(dir: string, over: Record<string, unknown> = {}): ServerConfig {
  return ServerConfigSchema.parse({ port: 0, host: '127.0.0.1', database: `${dir}/v.db`, monitoring_enabled: false, health_check_enabled: false, ...over });
}

/** Polls `cond` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 10_000, stepMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/**
 * One HTTP request with node:http (no connection reuse, so servers can be stopped between tests).
 * `body` objects are sent as JSON with Content-Type application/json unless `headers` says otherwise;
 * strings are sent as they are.
 */
export function api(
  base: string,
  path: string,
  opts: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const url = new URL(path, base);
  const headers: Record<string, string> = { ...opts.headers };
  let payload: string | undefined;
  if (opts.body !== undefined) {
    payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type') && typeof opts.body !== 'string') {
      headers['content-type'] = 'application/json';
    }
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return sendRequest(url, { method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'), headers, payload });
}

/**
 * Sends one request on a fresh connection (HTTP or HTTPS by the URL; certificates are not checked) and reads
 * the whole answer; `json` is the parsed body, or undefined when it is empty or not JSON.
 */
export function sendRequest(url: URL, opts: { method: string; headers: OutgoingHttpHeaders; payload?: string; servername?: string }): Promise<ApiResponse> {
  const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolvePromise, reject) => {
    const req = fn(
      url,
      { method: opts.method, headers: opts.headers, agent: false, rejectUnauthorized: false, ...(opts.servername ? { servername: opts.servername } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.payload);
  });
}

export function registerBody(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: id,
    hostname: `${id}.test`,
    public_ip: '',
    local_ip: '10.0.0.1',
    latitude: null,
    longitude: null,
    country: '',
    city: '',
    total_cpu: 16,
    total_memory_gb: 64,
    total_storage_gb: 500,
    endpoint_url: `http://${id}.test:11000`,
    ...over,
  };
}

export function statsBody(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: id,
    hostname: `${id}.test`,
    timestamp: new Date().toISOString(),
    cpu_cores: 16,
    cpu_usage_avg: Array.from({ length: 16 }, () => 10),
    memory_total_gb: 64,
    memory_used_gb: 16,
    memory_avail_gb: 48,
    disk_total_gb: 500,
    disk_used_gb: 100,
    disk_avail_gb: 400,
    ...over,
  };
}

/** Registers a backend and reports its stats, asserting both succeed. */
export async function addBackend(
  base: string,
  id: string,
  reg: Record<string, unknown> = {},
  stats: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<void> {
  const r1 = await api(base, '/register', { body: registerBody(id, reg), headers });
  if (r1.status !== 200) throw new Error(`register ${id}: ${r1.status} ${r1.text}`);
  const r2 = await api(base, '/stats', { body: statsBody(id, stats), headers });
  if (r2.status !== 200) throw new Error(`stats ${id}: ${r2.status} ${r2.text}`);
}

/** A `vantage server` child process (dist/cli/main.js) on an ephemeral port. */
export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly proc: ChildProcess;
  /** stdout+stderr so far. */
  output(): string;
  /** Resolves with the exit code (or 128+signal number-ish string) when the process ends. */
  readonly exited: Promise<number | string>;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | string>;
}

export function writeConfig(dir: string, config: Record<string, unknown>, name = 'server.yml'): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(config));
  return path;
}

/**
 * Spawns `node dist/cli/main.js server --config <file>` with port 0 and waits for the port file the server
 * writes once it listens. Requires `npm run build`.
 */
export async function spawnServer(dir: string, config: Record<string, unknown>, extraArgs: string[] = []): Promise<ServerProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const cfg = writeConfig(dir, {
    port: 0,
    host: '127.0.0.1',
    database: join(dir, 'vantage.db'),
    json_logging: true,
    monitoring_enabled: false,
    health_check_enabled: false,
    // These tests send hundreds of requests from one address; rate limiting has its own tests.
    rate_limit_per_minute: 1_000_000,
    rate_limit_burst: 1_000_000,
    ...config,
  });
  const portFile = join(dir, `port-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const proc = spawn(process.execPath, [MAIN, 'server', '--config', cfg, ...extraArgs], {
    cwd: dir,
    env: { ...process.env, VANTAGE_PORT_FILE: portFile, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, sig) => res(code ?? sig ?? 'unknown')));
  let early: number | string | null = null;
  void exited.then((c) => (early = c));
  const info = await waitFor(
    () => {
      if (early !== null) throw new Error(`server exited early (${early}):\n${out}`);
      if (!existsSync(portFile)) return null;
      return JSON.parse(readFileSync(portFile, 'utf8')) as { port: number; url: string };
    },
    'the server port file',
    20_000,
  ).catch((err: unknown) => {
    proc.kill('SIGKILL');
    throw err;
  });
  return {
    url: info.url,
    port: info.port,
    proc,
    output: () => out,
    exited,
    signal: (sig) => proc.kill(sig),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}
