/**
 * Two real `vantage server` processes (src/cli/main.ts under tsx) on one PostgreSQL database sharing one worker
 * CA: both start together on an empty database with the same `pki_seal_key` and end with the same CA (the first
 * replica's CA wins, the other unseals it); a worker enrolled through replica A connects with mTLS to replica
 * B; `vantage worker revoke` on the database closes the worker's open stream on B and B and A refuse it from
 * then on; a third replica with neither the seal key nor a key file runs without PKI, logs why and makes no CA
 * of its own. Then the key-file variant: two replicas given the same pki_ca_cert_file / pki_ca_key_file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Http2SessionManager } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type OpenedStore } from '../../src/store/index.js';
import { enroll } from '../../src/agent/worker/credentials.js';
import { newToken } from '../../src/pki/tokens.js';
import { createCa, writeCaFiles } from '../../src/pki/ca.js';
import { SimWorker } from '../monitoring/sim-worker.js';
import { waitFor } from '../monitoring/helpers.js';
import { freePort, startServerProcess, type ServerProc } from '../checks/helpers/system.js';
import { sql, startCluster, type Cluster } from './cluster.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

let cluster: Cluster;
let dir: string;
const procs: ServerProc[] = [];
const stores: OpenedStore[] = [];
const workers: SimWorker[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  dir = mkdtempSync(join(tmpdir(), 'vantage-pki-replicas-'));
});
afterAll(async () => {
  for (const w of workers) await w.kill().catch(() => undefined);
  for (const p of procs) await p.stop();
  for (const s of stores) await s.close();
  await cluster?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function replica(name: string, database: string, keys: Record<string, unknown>): Promise<ServerProc & { workerHttps: string }> {
  const workerPort = await freePort();
  const p = await startServerProcess(dir, { database, worker_port: workerPort, health_check_enabled: false, pki_revocation_check_seconds: 1, log_level: 'info', ...keys }, name);
  procs.push(p);
  return Object.assign(p, { workerHttps: `https://127.0.0.1:${workerPort}` });
}

/** GET /v1/ca of a worker API (the CA is taken on trust here; the test compares it with the database's). */
function presentedCa(workerUrl: string): Promise<{ status: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${workerUrl}/v1/ca`, { rejectUnauthorized: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint: String((JSON.parse(Buffer.concat(chunks).toString()) as { fingerprint?: string }).fingerprint ?? '') }));
      })
      .on('error', reject);
  });
}

function connect(workerUrl: string, tls: { key: string; cert: string; ca: string }): SimWorker {
  const session = new Http2SessionManager(workerUrl, undefined, { ...tls, rejectUnauthorized: true });
  const w = new SimWorker({ baseUrl: workerUrl, session, region: 'global' });
  workers.push(w);
  w.register();
  return w;
}
async function outcome(w: SimWorker): Promise<{ accepted: boolean; reason: string }> {
  await waitFor(() => w.registration !== null || w.ended, { what: 'register answer or stream end', timeoutMs: 15_000 });
  if (w.registration?.accepted) return { accepted: true, reason: '' };
  return { accepted: false, reason: w.registration?.reason ?? String((w.endError as Error | null)?.message ?? '') };
}

async function cli(args: string[]): Promise<string> {
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const { stdout } = await run(process.execPath, ['--import', tsx, join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  return stdout;
}

describe('two replicas, one CA sealed in the database (pki_seal_key)', () => {
  let database: string;
  let a: Awaited<ReturnType<typeof replica>>;
  let b: Awaited<ReturnType<typeof replica>>;
  let store: OpenedStore;

  it('both replicas, started together on an empty database, end with the same CA', async () => {
    database = await cluster.createDatabase('pki');
    [a, b] = await Promise.all([replica('a', database, { pki_seal_key: 'one secret' }), replica('b', database, { pki_seal_key: 'one secret' })]);
    store = await openStore({ database, db_max_open_conns: 2 });
    stores.push(store);
    const ca = await store.pki.getCa();
    expect(ca?.key_sealed).toMatch(/"v":1/);
    expect(await sql(database, 'SELECT count(*)::int AS n FROM pki_ca')).toEqual([{ n: 1 }]);
    expect(await presentedCa(a.workerHttps)).toEqual({ status: 200, fingerprint: `sha256:${ca!.fingerprint}` });
    expect(await presentedCa(b.workerHttps)).toEqual({ status: 200, fingerprint: `sha256:${ca!.fingerprint}` });
    // Exactly one of them made the CA in use; the other unsealed it.
    const created = [a, b].filter((r) => r.output().includes('worker CA created and stored in the database'));
    expect(created).toHaveLength(1);
  }, 120_000);

  it('a worker enrolled through A connects with mTLS to B; a revocation closes it on B and both refuse it', async () => {
    const ca = (await store.pki.getCa())!;
    const t = newToken({ region: 'global', ttlMs: 60_000, uses: 1, now: Date.now() });
    await store.pki.createToken(t.record);
    const { credentials } = await enroll({ workerUrl: a.workerHttps, token: t.token, caFingerprint: ca.fingerprint, region: 'global', hostname: 'w1', stateDir: join(dir, 'w1') });
    const onB = connect(b.workerHttps, credentials);
    expect(await outcome(onB)).toEqual({ accepted: true, reason: '' });
    expect(onB.registration!.workerId).toBe(credentials.workerId);

    const t0 = Date.now();
    expect(await cli(['worker', 'revoke', credentials.workerId, '--reason', 'host decommissioned', '--database', database])).toMatch(/revoked/);
    await waitFor(() => onB.ended, { what: 'the stream on B closed after the revocation', timeoutMs: 10_000 });
    // pki_revocation_check_seconds is 1: the stream is closed at B's next check after the CLI returned.
    expect(Date.now() - t0).toBeLessThan(10_000);
    for (const r of [b, a]) expect(await outcome(connect(r.workerHttps, credentials))).toEqual({ accepted: false, reason: expect.stringMatching(/revoked: host decommissioned/) });
  }, 60_000);

  it('a replica with neither pki_seal_key nor a key file runs without PKI, logs why, and makes no CA', async () => {
    const before = (await store.pki.getCa())!.fingerprint;
    const c = await replica('c', database, {});
    await waitFor(() => /worker PKI is off/.test(c.output()), { what: 'the error in C’s log', timeoutMs: 10_000 });
    expect(c.output()).toMatch(/pki_seal_key: the database holds the worker CA sha256:[0-9a-f]{64} with its key sealed/);
    expect(c.child.exitCode).toBeNull();
    expect((await store.pki.getCa())!.fingerprint).toBe(before);
    expect(await sql(database, 'SELECT count(*)::int AS n FROM pki_ca')).toEqual([{ n: 1 }]);
    // Its worker API has no TLS (so no certificate of its own) and takes loopback workers only.
    await expect(presentedCa(`https://127.0.0.1:${new URL(c.workerUrl).port}`)).rejects.toThrow();
    // With worker_auth: mtls the same replica refuses to start.
    const d = await replica('d', database, { worker_auth: 'mtls' }).catch((e: unknown) => e as Error);
    expect(String(d instanceof Error ? d.message : '')).toMatch(/worker_auth: mtls needs the worker CA: pki_seal_key: the database holds/);
  }, 60_000);

  it('an empty database and no seal key or key file: no CA is made, PKI is off', async () => {
    const empty = await cluster.createDatabase('pki_none');
    const e = await replica('e', empty, {});
    await waitFor(() => /worker PKI is off/.test(e.output()), { what: 'the error in E’s log', timeoutMs: 10_000 });
    expect(await sql(empty, 'SELECT count(*)::int AS n FROM pki_ca')).toEqual([{ n: 0 }]);
  }, 60_000);
});

describe('two replicas, one CA from pki_ca_cert_file / pki_ca_key_file', () => {
  it('both use the file CA; the database records it without a key; a worker enrolled on one connects to the other', async () => {
    const database = await cluster.createDatabase('pki_files');
    const ca = await createCa(Date.now());
    const files = { pki_ca_cert_file: join(dir, 'shared-ca', 'ca.pem'), pki_ca_key_file: join(dir, 'shared-ca', 'ca-key.pem') };
    writeCaFiles(ca, files.pki_ca_cert_file, files.pki_ca_key_file);
    const [f, g] = await Promise.all([replica('f', database, files), replica('g', database, files)]);
    for (const r of [f, g]) expect(await presentedCa(r.workerHttps)).toEqual({ status: 200, fingerprint: `sha256:${ca.fingerprint}` });
    expect(await sql(database, 'SELECT fingerprint, key_sealed FROM pki_ca')).toEqual([{ fingerprint: ca.fingerprint, key_sealed: null }]);
    const store = await openStore({ database, db_max_open_conns: 2 });
    stores.push(store);
    const t = newToken({ region: 'global', ttlMs: 60_000, uses: 1, now: Date.now() });
    await store.pki.createToken(t.record);
    const { credentials } = await enroll({ workerUrl: f.workerHttps, token: t.token, caFingerprint: ca.fingerprint, region: 'global', hostname: 'w2', stateDir: join(dir, 'w2') });
    expect(await outcome(connect(g.workerHttps, credentials))).toEqual({ accepted: true, reason: '' });
  }, 120_000);
});
