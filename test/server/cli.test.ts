import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatExplain } from '../../src/cli/route-command.js';
import { MAIN, addBackend, api, spawnServer, tempDir, waitFor, writeConfig, type ServerProcess } from './helpers.js';

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('vantage route (against a real server process)', () => {
  const tmp = tempDir();
  let srv: ServerProcess;
  beforeAll(async () => {
    srv = await spawnServer(tmp.dir, { api_keys: ['cli-key'] });
    const h = { 'X-API-Key': 'cli-key' };
    await addBackend(srv.url, 'fast', {}, { cpu_usage_avg: Array(16).fill(5) }, h);
    await addBackend(srv.url, 'tight', {}, { memory_total_gb: 64, memory_used_gb: 63, memory_avail_gb: 1 }, h);
  });
  afterAll(async () => {
    await srv?.stop();
    tmp.cleanup();
  });

  it('prints the decision and releases it with --release', async () => {
    const r = await runCli(['route', '--server', srv.url, '--tier', 'medium', '--release'], { VANTAGE_API_KEY: 'cli-key' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^medium → fast\.test \(fast\) http:\/\/fast\.test:11000, reservation \S+\nreservation released\n$/);
    const clients = (await api(srv.url, '/clients', { headers: { 'X-API-Key': 'cli-key' } })).json as { pending: { reservations: number } }[];
    expect(clients.every((c) => c.pending.reservations === 0)).toBe(true);
  });

  it('--explain prints why each backend was filtered or its score terms', async () => {
    const r = await runCli(['route', '--server', srv.url, '--tier', 'medium', '--explain', '--api-key', 'cli-key']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('decision: medium → fast.test (fast) http://fast.test:11000');
    expect(lines[1]).toMatch(/^CLIENT_ID\s+HOSTNAME\s+ELIGIBLE\s+WHY \/ SCORE$/);
    expect(lines[2]).toMatch(/^fast\s+fast\.test\s+yes\s+score 30\.00 = distance – \+ cpu 5\.00 \+ memory 25\.00 \+ gpu 0\.00 \+ latency 0\.00 ms$/);
    expect(lines[3]).toMatch(/^tight\s+tight\.test\s+no\s+filtered: memory/);
  });

  it('exits 2 with the server\'s message on a bad request or a missing key, 1 when unreachable', async () => {
    const bad = await runCli(['route', '--server', srv.url, '--tier', 'nope', '--api-key', 'cli-key']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/400: unknown tier "nope"; known tiers: small/);
    const noKey = await runCli(['route', '--server', srv.url]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/401/);
    const down = await runCli(['route', '--server', 'http://127.0.0.1:1', '--timeout', '2']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach/);
    const coords = await runCli(['route', '--server', srv.url, '--lat', '95', '--lon', '0']);
    expect(coords.code).toBe(2);
    expect(coords.stderr).toMatch(/--lat/);
  });
});

describe('vantage route --timeout takes a duration like every other command (issue 16, item 11)', () => {
  const tmp = tempDir();
  let srv: ServerProcess;
  beforeAll(async () => {
    srv = await spawnServer(tmp.dir, { api_keys: ['cli-key'] });
    await addBackend(srv.url, 'fast', {}, { cpu_usage_avg: Array(16).fill(5) }, { 'X-API-Key': 'cli-key' });
  });
  afterAll(async () => {
    await srv?.stop();
    tmp.cleanup();
  });

  it.each(['10s', '1500ms', '1m', '10'])('--timeout %s', async (timeout) => {
    const r = await runCli(['route', '--server', srv.url, '--api-key', 'cli-key', '--release', '--timeout', timeout]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reservation released\n$/);
  });

  it('a bad or zero --timeout exits 2 naming the flag and the syntax', async () => {
    const bad = await runCli(['route', '--server', srv.url, '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: --timeout: expected a duration such as 10s, 500ms or 2m (a bare number is seconds), got "soon"\n');
    const zero = await runCli(['route', '--server', srv.url, '--timeout', '0s']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe('error: --timeout: expected a duration above 0, got "0s"\n');
  });
});

describe('formatExplain', () => {
  it('handles an empty fleet and a no-capacity decision', () => {
    expect(formatExplain({ decision: { status: 503, error: 'no backend available' }, backends: [] })).toBe(
      'decision: 503 no backend available\nno backends registered',
    );
  });
});

describe('vantage server --with-agent (what npm start runs)', () => {
  it('starts the demo backend and a local agent, so /route answers 200 as soon as the server is ready', async () => {
    const tmp = tempDir();
    // The real machine is reported: on a saturated CI box its cores can all be above 80 %, which would
    // rightly fail a 1-vCPU tier, so this test's "small" tier needs no free core.
    const tiers = [{ name: 'small', vcpu: 0, memory_gb: 0.1, storage_gb: 0.1 }];
    const srv = await spawnServer(tmp.dir, { tiers }, ['--with-agent', '--demo-port', '0']);
    try {
      const r = await api(srv.url, '/route', { body: '{"tier":"small"}', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(r.status).toBe(200);
      const clients = (await api(srv.url, '/clients')).json as Record<string, unknown>[];
      expect(clients).toHaveLength(1);
      const local = clients[0]!;
      expect(local.endpoint).toBe(r.json.endpoint);
      expect(local.cpu_cores).toBeGreaterThan(0);
      expect(local.memory_total_gb).toBeGreaterThan(0);
      expect(local.disk_total_gb).toBeGreaterThan(0);
      const echo = await api(r.json.endpoint as string, '/hello');
      expect(echo.json).toMatchObject({ demo: true, path: '/hello' });
      expect((await api(r.json.endpoint as string, '/health')).json).toEqual({ status: 'ok' });
      expect(await srv.stop()).toBe(0);
      // The agent child went with it.
      await waitFor(async () => {
        try {
          await api(r.json.endpoint as string, '/health');
          return false;
        } catch {
          return true;
        }
      }, 'the demo backend to stop');
    } finally {
      if (srv.proc.exitCode === null) srv.proc.kill('SIGKILL');
      tmp.cleanup();
    }
  });

  it('holds the first /route requests until the local backend has reported, instead of answering 503', async () => {
    const tmp = tempDir();
    // A port known when spawning, so the test can ask the moment the listener is up (before "ready").
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const cfg = writeConfig(tmp.dir, {
      host: '127.0.0.1',
      port,
      database: join(tmp.dir, 'v.db'),
      monitoring_enabled: false,
      health_check_enabled: false,
      tiers: [{ name: 'small', vcpu: 0, memory_gb: 0.1, storage_gb: 0.1 }],
    });
    const proc = spawn(process.execPath, [MAIN, 'server', '--config', cfg, '--with-agent', '--demo-port', '0'], { stdio: 'ignore' });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await api(url, '/health')).status === 200, 'the listener', 20_000, 5);
      const r = await api(url, '/route', { body: { tier: 'small' } });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // A server killed outright does not leave its local agent behind.
      const stateDir = join(tmp.dir, 'agent');
      expect(processesMentioning(stateDir)).toHaveLength(1);
      proc.kill('SIGKILL');
      await waitFor(() => processesMentioning(stateDir).length === 0, 'the local agent to exit after its server was killed', 15_000);
    } finally {
      proc.kill('SIGKILL');
      tmp.cleanup();
    }
  });
});

/** Pids of live processes whose command line contains `text` (Linux /proc). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // exited, not yet reaped
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
