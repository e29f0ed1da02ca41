/**
 * The worker-authentication matrix against a real worker API over real TLS (real SQLite file, real sockets):
 * client certificates (none, another CA, expired, revoked with an open stream, valid, renewed), enrollment
 * tokens (reused, expired, another region, tampered), renewal and the operations that must not be reachable
 * without authentication, and the CA key file permissions.
 */
import { mkdtempSync, rmSync, statSync, chmodSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Http2SessionManager } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMonitoringPlane, type MonitoringHandle } from '../../src/app/monitoring.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { enroll, loadCredentials, renew, credentialFiles, type WorkerCredentials } from '../../src/agent/worker/credentials.js';
import { createCa, loadCaFiles } from '../../src/pki/ca.js';
import { createCsr, issueWorkerCert, parseCsr } from '../../src/pki/issue.js';
import { newToken } from '../../src/pki/tokens.js';
import { SimWorker } from '../monitoring/sim-worker.js';
import { waitFor } from '../monitoring/helpers.js';

const logger = pino({ level: 'silent' });
let dir: string;
let opened: OpenedStore;
let mon: MonitoringHandle;
let url: string;
const workers: SimWorker[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-pki-'));
  opened = openSqliteStore(join(dir, 'v.db'));
  mon = await startMonitoringPlane({
    config: {
      host: '127.0.0.1',
      worker_port: 0,
      worker_auth: 'mtls',
      pki_ca_cert_file: join(dir, 'ca', 'ca.pem'),
      pki_ca_key_file: join(dir, 'ca', 'ca-key.pem'),
      pki_revocation_check_seconds: 1,
      scheduler_interval_ms: 50,
    },
    logger,
    store: opened.monitoring,
    pkiStore: opened.pki,
    engine: 'sqlite',
    leader: opened.leader,
    registry: new Registry(),
    tuning: { dispatchIntervalMs: 20, streamCheckIntervalMs: 50 },
  });
  url = `https://127.0.0.1:${mon.workerPort}`;
});

afterAll(async () => {
  for (const w of workers) await w.kill().catch(() => undefined);
  await mon.stop();
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
async function token(region = 'global', uses = 1): Promise<string> {
  return mon.pki!.createToken({ region, ttlMs: 60_000, uses });
}
async function enrolled(region = 'global'): Promise<{ creds: WorkerCredentials; stateDir: string }> {
  const stateDir = join(dir, `agent-${n++}`);
  const r = await enroll({ workerUrl: url, token: await token(region), caFingerprint: mon.pki!.caFingerprint, region, hostname: 'h', stateDir });
  return { creds: r.credentials, stateDir };
}

/** Opens a worker stream with the given TLS client material and registers. */
function connect(tls: { key?: string; cert?: string; ca: string }, register: { region?: string; workerId?: string } = {}): SimWorker {
  const session = new Http2SessionManager(url, undefined, { ...tls, rejectUnauthorized: true });
  const w = new SimWorker({ baseUrl: url, session, region: register.region ?? 'global', workerId: register.workerId });
  workers.push(w);
  w.register();
  return w;
}
async function outcome(w: SimWorker): Promise<{ accepted: boolean; reason: string }> {
  await waitFor(() => w.registration !== null || w.ended, { what: 'register answer or stream end', timeoutMs: 10_000 });
  if (w.registration?.accepted) return { accepted: true, reason: '' };
  return { accepted: false, reason: w.registration?.reason ?? String((w.endError as Error | null)?.message ?? '') };
}

describe('mTLS on the worker API', () => {
  it('refuses a stream without a client certificate', async () => {
    const r = await outcome(connect({ ca: mon.pki!.ca.certPem }));
    expect(r).toEqual({ accepted: false, reason: expect.stringMatching(/client certificate required/) });
  });

  it('refuses a certificate from another CA', async () => {
    const other = await createCa(Date.now(), 'Someone else');
    const { keyPem, csrPem } = await createCsr('x');
    const cert = await issueWorkerCert(other, await parseCsr(csrPem), { workerId: 'wrk_forged', region: 'global', now: Date.now(), days: 30 });
    const r = await outcome(connect({ key: keyPem, cert: cert.pem, ca: mon.pki!.ca.certPem }));
    expect(r.accepted).toBe(false);
    expect(r.reason).toMatch(/not issued by this server's worker CA/);
  });

  it('refuses an expired certificate of this CA', async () => {
    const { keyPem, csrPem } = await createCsr('x');
    const past = Date.now() - 40 * 86_400_000;
    const cert = await issueWorkerCert(mon.pki!.ca, await parseCsr(csrPem), { workerId: 'wrk_expired', region: 'global', now: past, days: 30 });
    await opened.pki.recordCert({ serial: cert.serial, worker_id: 'wrk_expired', region: 'global', hostname: 'h', not_before: cert.notBefore, not_after: cert.notAfter, issued_at: past, via: 'token', revoked_at: null, revoked_reason: null, superseded_at: null });
    const r = await outcome(connect({ key: keyPem, cert: cert.pem, ca: mon.pki!.ca.certPem }));
    expect(r).toEqual({ accepted: false, reason: expect.stringMatching(/client certificate expired/) });
  });

  it('accepts a valid certificate; the worker id comes from it, not from the message', async () => {
    const { creds } = await enrolled();
    const ok = connect(creds);
    expect(await outcome(ok)).toEqual({ accepted: true, reason: '' });
    expect(ok.registration!.workerId).toBe(creds.workerId);
    await ok.close();
    const lying = await outcome(connect(creds, { workerId: 'wrk_someoneelse' }));
    expect(lying.accepted).toBe(false);
    expect(lying.reason).toMatch(/not the one in the client certificate/);
    const wrongRegion = await outcome(connect(creds, { region: 'eu' }));
    expect(wrongRegion.reason).toMatch(/region "eu" is not the one in the client certificate/);
    expect((await opened.pki.listAuth()).find((a) => a.worker_id === creds.workerId)?.via).toBe('mtls');
  });

  it('revocation closes the open stream within seconds and refuses the certificate from then on', async () => {
    const { creds } = await enrolled();
    const w = connect(creds);
    expect((await outcome(w)).accepted).toBe(true);
    const t0 = Date.now();
    await opened.pki.revokeWorkerCerts(creds.workerId, 'stolen laptop', Date.now());
    await waitFor(() => w.ended, { what: 'the open stream closed', timeoutMs: 5_000 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    const again = await outcome(connect(creds));
    expect(again).toEqual({ accepted: false, reason: expect.stringMatching(/revoked: stolen laptop/) });
  });
});

describe('enrollment tokens', () => {
  const fresh = async () => createCsr('x');
  async function post(path: string, body: unknown, tls: { key?: string; cert?: string } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = https.request(`${url}${path}`, { method: 'POST', ca: mon.pki!.ca.certPem, ...tls, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  it('a token works once: reused, it is refused', async () => {
    const t = await token();
    expect((await post('/v1/enroll', { token: t, csr: (await fresh()).csrPem })).status).toBe(200);
    const again = await post('/v1/enroll', { token: t, csr: (await fresh()).csrPem });
    expect(again).toEqual({ status: 401, json: { error: 'enrollment token already used' } });
  });

  it('an expired token is refused', async () => {
    const { token: t, record } = newToken({ region: 'global', ttlMs: 1000, uses: 1, now: Date.now() - 5000 });
    await opened.pki.createToken(record);
    expect(await post('/v1/enroll', { token: t, csr: (await fresh()).csrPem })).toEqual({ status: 401, json: { error: 'enrollment token expired' } });
  });

  it('a token for another region is refused', async () => {
    const t = await token('eu-west');
    const r = await post('/v1/enroll', { token: t, csr: (await fresh()).csrPem, region: 'us-east' });
    expect(r).toEqual({ status: 403, json: { error: 'enrollment token is for region "eu-west", not "us-east"' } });
  });

  it('a tampered token is refused, and a malformed one names the field', async () => {
    const t = await token();
    const last = t.at(-1) === 'A' ? 'B' : 'A';
    expect(await post('/v1/enroll', { token: t.slice(0, -1) + last, csr: (await fresh()).csrPem })).toEqual({ status: 401, json: { error: 'enrollment token wrong' } });
    expect((await post('/v1/enroll', { token: 'nope', csr: 'x' })).json.error).toMatch(/^token: expected an enrollment token/);
    expect((await post('/v1/enroll', { csr: 'x' })).json.error).toMatch(/^token: /);
    expect((await post('/v1/enroll', { token: t, csr: (await fresh()).csrPem, extra: 1 })).json.error).toMatch(/unexpected field\(s\) extra/);
  });

  it('concurrent enrollments with a 3-use token: exactly 3 succeed', async () => {
    const t = await token('global', 3);
    const rs = await Promise.all(Array.from({ length: 8 }, async () => post('/v1/enroll', { token: t, csr: (await fresh()).csrPem })));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(3);
    expect(rs.filter((r) => r.status === 401)).toHaveLength(5);
  });

  it('renewal: a new key and certificate; the old certificate stops working once the new one is used', async () => {
    const { creds, stateDir } = await enrolled();
    const next = await renew(url, stateDir, creds);
    expect(next.workerId).toBe(creds.workerId);
    expect(next.key).not.toBe(creds.key);
    expect(loadCredentials(stateDir)!.cert).toBe(next.cert);
    // Until the new one is used, the old one still works (a renewal answer lost in transit is not fatal).
    const old = connect(creds);
    expect((await outcome(old)).accepted).toBe(true);
    const w = connect(next);
    expect((await outcome(w)).accepted).toBe(true);
    await waitFor(() => old.ended, { what: 'the stream on the old certificate closed', timeoutMs: 5_000 });
    expect(await outcome(connect(creds))).toEqual({ accepted: false, reason: expect.stringMatching(/replaced by a renewed one/) });
    await expect(renew(url, stateDir, creds)).rejects.toThrow(/renewal refused \(401\): client certificate replaced/);
  });

  it('renew, revoke and list are refused without proper authentication', async () => {
    expect(await post('/v1/renew', { csr: (await fresh()).csrPem })).toEqual({ status: 401, json: { error: 'renewal needs the current client certificate' } });
    const other = await createCa(Date.now());
    const k = await fresh();
    const forged = await issueWorkerCert(other, await parseCsr(k.csrPem), { workerId: 'wrk_x', region: 'global', now: Date.now(), days: 1 });
    expect((await post('/v1/renew', { csr: k.csrPem }, { key: k.keyPem, cert: forged.pem })).status).toBe(401);
    // Listing, revoking and token creation exist only as `vantage worker …` on the database host.
    for (const path of ['/v1/revoke', '/v1/workers', '/v1/tokens']) expect((await post(path, {})).status).toBe(404);
  });
});

describe('file permissions', () => {
  it('CA key 0600, certificate 0644, agent credentials 0600; a group-readable CA key is refused', async () => {
    const ca = join(dir, 'ca');
    expect(statSync(join(ca, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(ca, 'ca.pem')).mode & 0o777).toBe(0o644);
    const { stateDir } = await enrolled();
    for (const f of Object.values(credentialFiles(stateDir))) expect(statSync(f).mode & 0o777).toBe(0o600);
    chmodSync(join(ca, 'ca-key.pem'), 0o640);
    try {
      await expect(loadCaFiles(join(ca, 'ca.pem'), join(ca, 'ca-key.pem'))).rejects.toThrow(/pki_ca_key_file: .*readable by others \(mode 0640\); expected 0600 \(run: chmod 600/);
    } finally {
      chmodSync(join(ca, 'ca-key.pem'), 0o600);
    }
  });

  it('pins the CA: a wrong --ca-fingerprint stops enrollment before the token is sent', async () => {
    const t = await token();
    await expect(enroll({ workerUrl: url, token: t, caFingerprint: 'ab'.repeat(32), region: 'global', hostname: 'h', stateDir: join(dir, 'pin') })).rejects.toThrow(/not the expected sha256:abab/);
    // The token was not used, so it still enrolls with the right fingerprint.
    await expect(enroll({ workerUrl: url, token: t, caFingerprint: `sha256:${mon.pki!.caFingerprint}`, region: 'global', hostname: 'h', stateDir: join(dir, 'pin') })).resolves.toBeTruthy();
  });
});
