/**
 * The checks end to end with mTLS on (worker_auth: mtls): a real `vantage server` process (SQLite file, the
 * worker CA in the test's directory) and a real agent process that enrolls with a one-time token from
 * `vantage worker token create`, connects to the worker API over mTLS, runs HTTP checks against a loopback
 * target, and gets its results ingested and listed by the management API under the worker id its certificate
 * names. An agent with only the shared server key is refused by the same worker API. Then worker_auth: both
 * (migration): an enrolled mTLS agent is killed holding a job, and a token agent on cleartext h2c (the same
 * port, told apart by the first byte) re-runs it within lease + reaper interval, storing one result.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor as waitUntil } from '../monitoring/helpers.js';
import { startHttp, type Running } from '../checks/helpers/servers.js';
import { agentKeys, freePort, startAgentProcess, startServerProcess, tempDir, type AgentProc, type ServerProc } from '../checks/helpers/system.js';
import { credentialFiles, loadCredentials } from '../../src/agent/worker/credentials.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

let target: Running;
let hits = 0;
/** /slow-once/KEY?delay=MS answers the first request for KEY after MS, later ones at once. */
const slowSeen = new Map<string, number>();
const dir = tempDir('vantage-mtls-e2e-');
const procs: Array<{ kill(): Promise<void> }> = [];
let server: ServerProc;
let database: string;

async function cli(args: string[]): Promise<string> {
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const { stdout } = await run(process.execPath, ['--import', tsx, join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  return stdout;
}

beforeAll(async () => {
  target = await startHttp((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname.startsWith('/slow-once/')) {
      const key = u.pathname.split('/')[2] ?? '';
      const n = (slowSeen.get(key) ?? 0) + 1;
      slowSeen.set(key, n);
      const t = setTimeout(() => res.end('ok'), n === 1 ? Number(u.searchParams.get('delay') ?? '0') : 0);
      res.on('close', () => clearTimeout(t));
      return;
    }
    hits++;
    res.end('ok');
  });
  database = join(dir.path, 'v.db');
  const workerPort = await freePort();
  server = await startServerProcess(dir.path, {
    server_key: 'k',
    database,
    worker_port: workerPort,
    worker_auth: 'mtls',
    pki_ca_cert_file: join(dir.path, 'ca', 'ca.pem'),
    pki_ca_key_file: join(dir.path, 'ca', 'ca-key.pem'),
  });
  procs.push(server);
}, 60_000);

afterAll(async () => {
  while (procs.length > 0) await procs.pop()?.kill();
  await target?.close();
  dir.remove();
});

function agent(name: string, extra: Record<string, unknown>, s: ServerProc = server, scheme = 'https'): AgentProc {
  const workerUrl = `${scheme}://127.0.0.1:${new URL(s.workerUrl).port}`;
  const a = startAgentProcess({ ...agentKeys({ url: s.url, workerUrl }, dir.path, name), report_interval_seconds: 60, stats_every_ms: 100, ...extra });
  procs.push(a);
  return a;
}

describe('checks end to end with mTLS (worker_auth: mtls)', () => {
  it('an agent enrolls with a token, connects over mTLS, runs HTTP checks; the results are ingested under its certificate’s worker id', async () => {
    const created = await cli(['worker', 'token', 'create', '--database', database, '--ttl', '10m']);
    const token = /^(vet_\S+)$/m.exec(created)?.[1] ?? '';
    const fingerprint = /--ca-fingerprint (sha256:[0-9a-f]{64})/.exec(created)?.[1] ?? '';
    expect(token).not.toBe('');
    expect(fingerprint).not.toBe('');

    const a = agent('agent-m', { enrollment_token: token, ca_fingerprint: fingerprint });
    await waitUntil(() => a.lastStats()?.stats.connected === true, { what: 'the enrolled agent connected', timeoutMs: 30_000, intervalMs: 50 });
    const stateDir = join(dir.path, 'agent-m');
    const creds = loadCredentials(stateDir);
    expect(creds).not.toBeNull();
    for (const f of Object.values(credentialFiles(stateDir))) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(a.lastStats()?.stats.workerId).toBe(creds!.workerId);

    const monitor = await server.monitors.createMonitor({
      monitor: { name: 'mtls-http', url: `http://127.0.0.1:${target.port}/health`, intervalMs: 1_000n, timeoutMs: 5_000n, assertions: ['status == 200'] },
    });
    const id = monitor.monitor?.id ?? '';
    await waitUntil(async () => (await server.monitors.listResults({ monitorId: id, limit: 10 })).results.length >= 2, { what: 'two results stored', timeoutMs: 30_000, intervalMs: 100 });
    const { results } = await server.monitors.listResults({ monitorId: id, limit: 10 });
    for (const r of results) expect(r).toMatchObject({ status: 'up', httpCode: 200, workerId: creds!.workerId });
    expect(hits).toBeGreaterThanOrEqual(2);

    const list = await cli(['worker', 'list', '--database', database]);
    const row = list.split('\n').find((l) => l.startsWith(creds!.workerId)) ?? '';
    expect(row).toMatch(/\bmtls\b/);
  }, 120_000);

  it('an agent with only the shared server key is refused by the mTLS worker API', async () => {
    // insecure_tls: it skips verifying the server, so the refusal seen is the server's, not the agent's own.
    const keyOnly = agent('agent-k', { insecure_tls: true });
    // The worker API asks for a client certificate: the shared key is not enough under worker_auth: mtls.
    await waitUntil(() => /client certificate required/.test(keyOnly.output()) || keyOnly.child.exitCode !== null, { what: 'the key-only agent refused', timeoutMs: 30_000, intervalMs: 50 }).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${keyOnly.output()}`);
    });
    expect(keyOnly.lastStats()?.stats.connected ?? false).toBe(false);
    expect(existsSync(credentialFiles(join(dir.path, 'agent-k')).cert)).toBe(false);
  }, 60_000);
});

describe('worker_auth: both (migration from the shared key)', () => {
  it('a killed mTLS agent’s job is re-run by a token agent on h2c within lease + reaper interval, one result stored', async () => {
    const bothDb = join(dir.path, 'both.db');
    const s = await startServerProcess(
      dir.path,
      {
        server_key: 'k',
        database: bothDb,
        worker_port: await freePort(),
        worker_auth: 'both',
        pki_ca_cert_file: join(dir.path, 'both-ca', 'ca.pem'),
        pki_ca_key_file: join(dir.path, 'both-ca', 'ca-key.pem'),
        lease_timeout_seconds: 3,
        reaper_interval_seconds: 1,
        state_dir: join(dir.path, 'both-state'),
      },
      'both',
    );
    procs.push(s);
    const created = await cli(['worker', 'token', 'create', '--database', bothDb]);
    const token = /^(vet_\S+)$/m.exec(created)?.[1] ?? '';
    const a = agent('both-a', { enrollment_token: token, ca_fingerprint: /--ca-fingerprint (sha256:[0-9a-f]{64})/.exec(created)?.[1] ?? '' }, s);
    await waitUntil(() => a.lastStats()?.stats.connected === true, { what: 'the enrolled agent connected', timeoutMs: 30_000, intervalMs: 50 });
    const monitor = await s.monitors.createMonitor({
      monitor: { name: 'both-killed', url: `http://127.0.0.1:${target.port}/slow-once/both?delay=60000`, intervalMs: 60_000n, timeoutMs: 30_000n, assertions: ['status == 200'] },
    });
    const id = monitor.monitor?.id ?? '';
    await waitUntil(() => slowSeen.get('both') === 1, { what: 'the mTLS agent running the check', timeoutMs: 15_000, intervalMs: 20 });
    const b = agent('both-b', {}, s, 'http');
    await waitUntil(() => b.lastStats()?.stats.connected === true, { what: 'the token agent (h2c) connected', timeoutMs: 30_000, intervalMs: 50 });
    await a.kill();
    const killedAt = Date.now();
    await waitUntil(() => slowSeen.get('both') === 2, { what: 'the token agent re-running the job', timeoutMs: 15_000, intervalMs: 20 });
    // lease 3 s + reaper period 1 s, plus dispatch slack
    expect(Date.now() - killedAt).toBeLessThan(3000 + 1000 + 1500);
    await waitUntil(async () => (await s.monitors.listResults({ monitorId: id, limit: 10 })).results.length > 0, { what: 'the result stored', timeoutMs: 10_000, intervalMs: 50 });
    const { results } = await s.monitors.listResults({ monitorId: id, limit: 10 });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ status: 'up', httpCode: 200, workerId: b.lastStats()?.stats.workerId });
    const list = await cli(['worker', 'list', '--database', bothDb]);
    expect(list).toMatch(/server_key|cluster_token/);
    expect(list).toMatch(/\bmtls\b/);
  }, 120_000);
});
