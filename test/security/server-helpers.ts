import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sendRequest, waitFor, type ApiResponse } from '../server/helpers.js';
import { REPO } from './helpers.js';

export const MAIN = join(REPO, 'dist/cli/main.js');

export { waitFor };

export type Reply = ApiResponse;

/** One request on a fresh connection. Objects are sent as JSON. */
export function call(
  base: string,
  path: string,
  opts: { method?: string; body?: unknown; headers?: OutgoingHttpHeaders; ca?: Buffer; servername?: string } = {},
): Promise<Reply> {
  const url = new URL(path, base);
  const headers: OutgoingHttpHeaders = { ...opts.headers };
  let payload: string | undefined;
  if (opts.body !== undefined) {
    payload = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    if (headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return sendRequest(url, { method: opts.method ?? (payload !== undefined ? 'POST' : 'GET'), headers, payload, servername: opts.servername });
}

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  configFile: string;
  output: () => string;
  writeConfig(cfg: Record<string, unknown>): void;
  stop(): Promise<number | null>;
}

/** Base server.yml for tests: no monitoring (no second port), SQLite in `dir`. */
export function baseConfig(dir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    port: 0,
    host: '127.0.0.1',
    database: join(dir, 'vantage.db'),
    monitoring_enabled: false,
    health_check_enabled: false,
    json_logging: true,
    ...extra,
  };
}

/** Spawns `vantage server --config <file>` from dist/ and waits for its port file. */
export async function startServerProcess(dir: string, cfg: Record<string, unknown>, name = 'server'): Promise<ServerProcess> {
  if (!existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const configFile = join(dir, `${name}.yml`);
  const portFile = join(dir, `${name}.port.json`);
  writeFileSync(configFile, stringify(cfg));
  let out = '';
  const child = spawn(process.execPath, [MAIN, 'server', '--config', configFile], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, VANTAGE_PORT_FILE: portFile, VANTAGE_WEB_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited: number | null | undefined;
  const exitP = new Promise<number | null>((r) => child.on('exit', (code) => r((exited = code))));
  const info = await Promise.race([
    waitFor(() => (existsSync(portFile) ? (JSON.parse(readFileSync(portFile, 'utf8')) as { port: number; url: string }) : null), 'the server port file', 20_000),
    exitP.then((code) => {
      throw new Error(`server exited with ${code} before listening: ${out}`);
    }),
  ]).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    url: info.url,
    port: info.port,
    child,
    configFile,
    output: () => out,
    writeConfig: (c) => writeFileSync(configFile, stringify(c)),
    async stop() {
      if (exited !== undefined) return exited;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exitP;
      clearTimeout(t);
      return code;
    },
  };
}

/** Sends `head` (request line + headers, exactly as given) on a raw socket; resolves with status and body. */
export function rawRequest(port: number, target: string, extraHeaders = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = netConnect(port, '127.0.0.1', () => {
      sock.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n${extraHeaders}Connection: close\r\n\r\n`);
    });
    let buf = '';
    sock.on('data', (d: Buffer) => (buf += d.toString()));
    sock.on('error', reject);
    sock.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(buf);
      const body = buf.slice(buf.indexOf('\r\n\r\n') + 4);
      resolve({ status: m ? Number(m[1]) : 0, text: body });
    });
  });
}
