/**
 * Real processes for end-to-end tests: `vantage server` (src/cli/main.ts under
 * tsx, so no build is needed) and agent processes (helpers/agent-process.ts),
 * plus a MonitorsService client for the server's management API.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createClient } from '@connectrpc/connect';
import type { Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { MonitorsService } from '../../../src/gen/vantage/v1/monitors_pb.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const TSX = ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href];

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  stdout(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `ms` */
  stop(ms?: number): Promise<void>;
  kill(): Promise<void>;
}

function track(child: ChildProcess): Proc {
  let out = '';
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    exited,
    async stop(ms = 5000) {
      if (done) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (done) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function waitFile(path: string, proc: Proc, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (proc.child.exitCode !== null) throw new Error(`process exited early:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return readFileSync(path, 'utf8');
}

export interface ServerProc extends Proc {
  port: number;
  url: string;
  workerUrl: string;
  monitors: Client<typeof MonitorsService>;
}

/** Start `vantage server` with the given server.yml keys; resolves once it listens. */
export async function startServerProcess(dir: string, keys: Record<string, unknown>, name = 'server'): Promise<ServerProc> {
  const cfgPath = join(dir, `${name}.json`);
  const portFile = join(dir, `${name}.port.json`);
  rmSync(portFile, { force: true });
  writeFileSync(cfgPath, JSON.stringify({ host: '127.0.0.1', port: 0, ...keys }));
  const child = spawn(process.execPath, [...TSX, join(ROOT, 'src/cli/main.ts'), 'server', '--config', cfgPath], {
    cwd: dir,
    env: { ...process.env, VANTAGE_PORT_FILE: portFile, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(child);
  const info = JSON.parse(await waitFile(portFile, proc, 30_000)) as { port: number; url: string };
  const transport = createConnectTransport({ baseUrl: info.url, httpVersion: '1.1' });
  const key = String(keys.server_key ?? '');
  const monitors = createClient(MonitorsService, transport);
  const withKey = new Proxy(monitors, {
    get(target, prop) {
      const fn = (target as unknown as Record<string | symbol, unknown>)[prop];
      if (typeof fn !== 'function') return fn;
      return (req: unknown, opts: { headers?: Record<string, string> } = {}) =>
        (fn as (r: unknown, o: unknown) => unknown).call(target, req, { ...opts, headers: { 'x-api-key': key, ...(opts.headers ?? {}) } });
    },
  }) as Client<typeof MonitorsService>;
  return { ...proc, port: info.port, url: info.url, workerUrl: `http://127.0.0.1:${String(keys.worker_port)}`, monitors: withKey };
}

export interface AgentProc extends Proc {
  /** last stats line the agent printed (needs stats_every_ms) */
  lastStats(): { stats: { connected: boolean; workerId: string; running: number; unacked: number; checksCompleted: number; resultsAcked: number } } | null;
}

/** The client.yml keys that connect an agent named `name` to server `s` (key "k"), with its state under `dir`. */
export function agentKeys(s: { url: string; workerUrl: string }, dir: string, name: string): Record<string, unknown> {
  return { server_url: s.url, server_key: 'k', worker_url: s.workerUrl, client_id: name, hostname: name, state_dir: join(dir, name) };
}

/** Start an agent process (resource reporting + monitoring worker) with client.yml keys. */
export function startAgentProcess(keys: Record<string, unknown>): AgentProc {
  const child = spawn(process.execPath, [...TSX, join(ROOT, 'test/checks/helpers/agent-process.ts')], {
    cwd: ROOT,
    env: { ...process.env, VANTAGE_TEST_AGENT: JSON.stringify({ skip_geolocation: true, log_level: 'warn', ...keys }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(child);
  return {
    ...proc,
    lastStats() {
      const lines = proc
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{"stats"'));
      const last = lines[lines.length - 1];
      return last ? (JSON.parse(last) as ReturnType<AgentProc['lastStats']>) : null;
    },
  };
}
