/**
 * A real `vantage server --with-agent` process for the browser tests: free ports (main, worker, web, demo
 * backend), a temp SQLite file, the web port over HTTPS with its self-signed certificate. The setup link is
 * read from the server's log, as an operator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = join(REPO, 'dist/cli/main.js');

export interface BrowserServer {
  /** The web port's URL (https://127.0.0.1:<port>). */
  web: string;
  /** The main port's URL. */
  main: string;
  setupLink: string | null;
  dir: string;
  /** Everything the process wrote so far. */
  log(): string;
  stop(): Promise<void>;
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | null, proc: ChildProcess, log: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== null) return v;
    if (proc.exitCode !== null) throw new Error(`vantage server exited (${proc.exitCode}) before ${what}:\n${log().slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startBrowserServer(opts: { withAgent?: boolean; args?: string[]; apiKeys?: string[] } = {}): Promise<BrowserServer> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm run test:browser builds it first`);
  const dir = mkdtempSync(join(tmpdir(), 'vantage-browser-'));
  const portFile = join(dir, 'port.json');
  const args = [
    MAIN, 'server',
    '--host', '127.0.0.1', '--port', '0', '--worker-port', '0', '--web-port', '0',
    '--database', join(dir, 'vantage.db'),
    ...(opts.withAgent === false ? [] : ['--with-agent', '--demo-port', '0']),
    ...(opts.apiKeys?.length ? ['--api-keys', opts.apiKeys.join(',')] : []),
    ...(opts.args ?? []),
  ];
  let out = '';
  const proc = spawn(process.execPath, args, {
    cwd: dir,
    env: { ...process.env, VANTAGE_PORT_FILE: portFile, VANTAGE_WEB_TLS_DISABLE: undefined, WEB_TLS_DISABLE: undefined, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const log = () => out;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) {
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports = await until('the port file', 60_000, () => (existsSync(portFile) ? (JSON.parse(readFileSync(portFile, 'utf8')) as { url: string; webUrl: string }) : null), proc, log);
    const setupLink = /https?:\/\/[^\s"]+\/setup\?token=[A-Za-z0-9_-]+/.exec(out)?.[0] ?? null;
    return { web: ports.webUrl, main: ports.url, setupLink, dir, log, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
