/**
 * The agent's reporter against a real `vantage server` process (dist/cli/main.js, built by
 * `npm test`'s pretest). A small fault-injecting HTTP relay sits between agent and server so
 * the test can make the path answer 500 or hang while the real server stays up.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CONFIG_DEFAULTS } from '../../src/agent/config.js';
import type { AgentConfig } from '../../src/agent/config.js';
import { runAgent } from '../../src/app/agent.js';
import type { SendOutcome } from '../../src/agent/reporter/reporter.js';
import { captureLogger, waitFor } from './helpers.js';
import type { CapturedLog } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vantage-rs-'));

interface ServerProc {
  child: ChildProcess;
  port: number;
  output: string[];
}

async function startServer(port: number, db: string): Promise<ServerProc> {
  const portFile = join(dir, `port-${Date.now()}-${Math.random()}.json`);
  const output: string[] = [];
  const child = spawn(process.execPath, [MAIN, 'server', '--port', String(port), '--host', '127.0.0.1', '--database', db, '--worker-port', '0'], {
    env: { ...process.env, VANTAGE_PORT_FILE: portFile, VANTAGE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  await waitFor(() => existsSync(portFile) || child.exitCode !== null, 20_000, 'server port file');
  if (child.exitCode !== null) throw new Error(`server exited: ${output.join('')}`);
  return { child, port: (JSON.parse(readFileSync(portFile, 'utf8')) as { port: number }).port, output };
}

async function stopServer(s: ServerProc): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

type Mode = 'pass' | '500' | 'hang';
/** Relays requests to the real server, or answers 500, or never answers. */
async function relay(target: () => number) {
  let mode: Mode = 'pass';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (mode === 'hang') return;
      if (mode === '500') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"injected"}');
      fetch(`http://127.0.0.1:${target()}${req.url ?? '/'}`, {
        method: req.method,
        headers: { 'content-type': 'application/json', 'x-api-key': String(req.headers['x-api-key'] ?? '') },
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      }).then(
        async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()),
        () => res.destroy(), // server down: the agent sees a connection error
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setMode: (m: Mode) => (mode = m),
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

interface ClientRow {
  client_id: string;
  cpu_cores: number;
  cpu_usage_pct: number;
  memory_total_gb: number;
  memory_used_gb: number;
  disk_total_gb: number;
}
async function clients(port: number): Promise<ClientRow[]> {
  return (await (await fetch(`http://127.0.0.1:${port}/clients`)).json()) as ClientRow[];
}

const haveBuild = existsSync(MAIN);

describe('agent reporter against a real vantage server', () => {
  it('has the built server to run (npm test builds it first)', () => {
    expect(haveBuild).toBe(true);
  });

  let server: ServerProc;
  let proxy: Awaited<ReturnType<typeof relay>>;
  let agentStop: AbortController;
  let agentDone: Promise<number>;
  let lines: CapturedLog[];
  const outcomes: Array<SendOutcome['kind'] | 'not-ready'> = [];
  let clientId = '';
  const cfg: AgentConfig = {
    ...AGENT_CONFIG_DEFAULTS,
    skip_geolocation: true,
    state_dir: join(dir, 'agent-state'),
    local_ip: '127.0.0.1',
    endpoint_url: 'http://127.0.0.1:11999',
    report_interval_seconds: 1,
    request_timeout_seconds: 0.4,
    window_minutes: 1,
  };

  function startAgent(): void {
    const cap = captureLogger('info');
    lines = cap.lines;
    agentStop = new AbortController();
    agentDone = runAgent({ ...cfg, server_url: proxy.url }, {
      logger: cap.logger,
      signal: agentStop.signal,
      nvidiaSmi: join(dir, 'no-nvidia-smi'),
      reporter: { breakerOpenMs: 1500, backoff: { baseMs: 50, capMs: 200 } },
      onReady: (i) => (clientId = i.clientId),
      onReport: (o) => outcomes.push(o.kind),
    });
  }
  const logged = (re: RegExp): number => lines.filter((l) => re.test(l.msg)).length;

  beforeAll(async () => {
    server = await startServer(0, join(dir, 'db1.sqlite'));
    proxy = await relay(() => server.port);
    startAgent();
  });
  afterAll(async () => {
    agentStop?.abort();
    await agentDone;
    await proxy?.close();
    if (server !== undefined) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers and reports real, non-zero figures', async () => {
    await waitFor(async () => (await clients(server.port)).some((c) => c.client_id === clientId && typeof c.memory_used_gb === 'number'), 15_000, 'client stats in /clients');
    const row = (await clients(server.port)).find((c) => c.client_id === clientId);
    expect(row?.cpu_cores).toBeGreaterThan(0);
    expect(row?.memory_total_gb).toBeGreaterThan(0);
    expect(row?.memory_used_gb).toBeGreaterThan(0);
    expect(row?.disk_total_gb).toBeGreaterThan(0);
  });

  it('survives 500s: retries, opens the breaker, closes it once the server answers again', async () => {
    proxy.setMode('500');
    await waitFor(() => logged(/circuit breaker open/) >= 1, 15_000, 'breaker to open');
    const before = outcomes.length;
    proxy.setMode('pass');
    await waitFor(() => logged(/circuit breaker closed/) >= 1 && outcomes.slice(before).includes('ok'), 15_000, 'breaker to close');
    expect(logged(/circuit breaker open/)).toBe(1);
  });

  it('survives slow responses (timeouts) the same way', async () => {
    const opened = logged(/circuit breaker open/);
    proxy.setMode('hang');
    await waitFor(() => logged(/circuit breaker open/) > opened, 20_000, 'breaker to open on timeouts');
    const before = outcomes.length;
    proxy.setMode('pass');
    await waitFor(() => outcomes.slice(before).includes('ok'), 15_000, 'recovery after timeouts');
  });

  it('survives a server stop/start with a fresh database: re-registers after the 404', async () => {
    const port = server.port;
    await stopServer(server);
    const closedBefore = logged(/circuit breaker closed/);
    await waitFor(() => outcomes.at(-1) === 'failed', 15_000, 'a failed report while the server is down');
    server = await startServer(port, join(dir, 'db2.sqlite'));
    await waitFor(async () => (await clients(server.port)).some((c) => c.client_id === clientId), 20_000, 'client back in /clients');
    expect(logged(/registering again/)).toBeGreaterThanOrEqual(1);
    await waitFor(() => logged(/circuit breaker closed/) > closedBefore, 10_000, 'breaker closed again');
  });

  it('keeps its generated id across an agent restart', async () => {
    const first = clientId;
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    agentStop.abort();
    expect(await agentDone).toBe(0);
    clientId = '';
    startAgent();
    await waitFor(() => clientId !== '', 5000, 'agent ready');
    expect(clientId).toBe(first);
    const n = outcomes.length;
    await waitFor(() => outcomes.slice(n).includes('ok'), 15_000, 'report after restart');
    expect((await clients(server.port)).filter((c) => c.client_id === first)).toHaveLength(1);
  });
});
