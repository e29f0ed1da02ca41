/**
 * The checks end to end with mTLS on (worker_auth: mtls): a real `vantage server` process (SQLite file, the
 * worker CA in the test's directory) and a real agent process that enrolls with a one-time token from
 * `vantage worker token create`, connects to the worker API over mTLS, runs HTTP checks against a loopback
 * target, and gets its results ingested and listed by the management API under the worker id its certificate
 * names. An agent with only the shared server key is refused by the same worker API.
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
  target = await startHttp((_req, res) => {
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

function agent(name: string, extra: Record<string, unknown>): AgentProc {
  const workerUrl = `https://127.0.0.1:${new URL(server.workerUrl).port}`;
  const a = startAgentProcess({ ...agentKeys({ url: server.url, workerUrl }, dir.path, name), report_interval_seconds: 60, stats_every_ms: 100, ...extra });
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
