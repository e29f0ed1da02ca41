/**
 * The worker API's server certificate is kept in <state_dir>/worker-tls/ and served again after a restart; it is
 * re-issued when the CA changed, near expiry (two thirds of its lifetime), when a wanted name is missing, or
 * when the stored pair is broken. The last test restarts a real worker API (real TLS) on the same state dir and
 * compares the certificate it presents.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createCa } from '../../src/pki/ca.js';
import { issueServerCert } from '../../src/pki/issue.js';
import { SERVER_CERT_DAYS, serverCertFiles, serverCertVerdict, workerApiServerCert } from '../../src/pki/server-cert.js';
import { startMonitoringPlane } from '../../src/app/monitoring.js';
import { openSqliteStore } from '../../src/store/index.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 1);
const names = ['localhost', '127.0.0.1', '::1', 'worker.example'];
const dirs: string[] = [];
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vantage-srvcert-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('serverCertVerdict', () => {
  it('reuses a good pair; re-issues for another CA, missing names, a wrong key, near and past expiry', async () => {
    const ca = await createCa(NOW);
    const pair = await issueServerCert(ca, names, NOW, SERVER_CERT_DAYS);
    expect(serverCertVerdict(pair, ca, names, NOW + DAY)).toEqual({ reuse: true });
    expect(serverCertVerdict(pair, ca, ['LOCALHOST', '0:0:0:0:0:0:0:1'], NOW + DAY)).toEqual({ reuse: true });
    expect(serverCertVerdict(null, ca, names, NOW)).toEqual({ reuse: false, reason: 'no stored certificate' });
    expect(serverCertVerdict(pair, await createCa(NOW), names, NOW)).toEqual({ reuse: false, reason: 'the worker CA changed' });
    expect(serverCertVerdict(pair, ca, [...names, 'new.example', '10.0.0.7'], NOW)).toEqual({ reuse: false, reason: 'names not covered: new.example, 10.0.0.7' });
    const other = await issueServerCert(ca, names, NOW);
    expect(serverCertVerdict({ certPem: pair.certPem, keyPem: other.keyPem }, ca, names, NOW)).toEqual({ reuse: false, reason: 'the stored key does not belong to the certificate' });
    expect(serverCertVerdict({ certPem: 'nope', keyPem: pair.keyPem }, ca, names, NOW).reuse).toBe(false);
    // notBefore is a minute before NOW: two thirds of 397 days is 264.67 days.
    expect(serverCertVerdict(pair, ca, names, NOW + 264 * DAY)).toEqual({ reuse: true });
    expect(serverCertVerdict(pair, ca, names, NOW + 265 * DAY)).toEqual({ reuse: false, reason: 'two thirds of its lifetime have passed' });
    expect(serverCertVerdict(pair, ca, names, NOW + 400 * DAY)).toEqual({ reuse: false, reason: 'the stored certificate expired' });
  });
});

describe('workerApiServerCert (files)', () => {
  it('writes the pair once (key 0600), then serves the same one; a new CA or a broken file re-issues it', async () => {
    const dir = temp();
    const ca = await createCa(NOW);
    const first = await workerApiServerCert({ ca, names, now: NOW, stateDir: dir });
    expect(first.issued).toBe('no stored certificate');
    const f = serverCertFiles(dir);
    expect(statSync(f.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(f.certFile).mode & 0o777).toBe(0o644);
    const again = await workerApiServerCert({ ca, names, now: NOW + 10 * DAY, stateDir: dir });
    expect(again).toMatchObject({ issued: false, certPem: first.certPem, keyPem: first.keyPem });

    const rotated = await workerApiServerCert({ ca: await createCa(NOW), names, now: NOW + 10 * DAY, stateDir: dir });
    expect(rotated.issued).toBe('the worker CA changed');
    expect(readFileSync(f.certFile, 'utf8')).toBe(rotated.certPem);

    writeFileSync(f.keyFile, 'garbage');
    const repaired = await workerApiServerCert({ ca, names, now: NOW + 10 * DAY, stateDir: dir });
    expect(repaired.issued).toBe('the stored key does not parse');
    expect(readFileSync(f.keyFile, 'utf8')).toBe(repaired.keyPem);

    const late = await workerApiServerCert({ ca, names, now: NOW + 300 * DAY, stateDir: dir });
    expect(late.issued).toBe('two thirds of its lifetime have passed');
    expect(late.certPem).not.toBe(repaired.certPem);
  });

  it('without a state dir it is made in memory at every call', async () => {
    const ca = await createCa(NOW);
    const a = await workerApiServerCert({ ca, names, now: NOW, stateDir: null });
    const b = await workerApiServerCert({ ca, names, now: NOW, stateDir: null });
    expect(a).toMatchObject({ stored: null, issued: 'no stored certificate' });
    expect(b.certPem).not.toBe(a.certPem);
  });
});

describe('a restarted worker API presents the same certificate', () => {
  async function presented(port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
        const fp = s.getPeerCertificate().fingerprint256;
        s.destroy();
        resolve(fp);
      });
      s.once('error', reject);
    });
  }
  async function start(dir: string) {
    const opened = openSqliteStore(join(dir, 'v.db'));
    const mon = await startMonitoringPlane({
      config: { host: '127.0.0.1', worker_port: 0, worker_auth: 'mtls', pki_ca_cert_file: join(dir, 'ca', 'ca.pem'), pki_ca_key_file: join(dir, 'ca', 'ca-key.pem') },
      logger: pino({ level: 'silent' }),
      store: opened.monitoring,
      pkiStore: opened.pki,
      engine: 'sqlite',
      leader: opened.leader,
      registry: new Registry(),
      stateDir: dir,
    });
    return {
      fingerprint: await presented(mon.workerPort),
      mon,
      stop: async () => {
        await mon.stop();
        await opened.close();
      },
    };
  }

  it('same fingerprint across a restart; a new CA (files removed) gets a new certificate', async () => {
    const dir = temp();
    const a = await start(dir);
    await a.stop();
    const b = await start(dir);
    await b.stop();
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(readFileSync(serverCertFiles(dir).certFile, 'utf8')).toMatch(/BEGIN CERTIFICATE/);
    // A new CA: a new database and CA files, the same state dir.
    rmSync(join(dir, 'ca'), { recursive: true });
    rmSync(join(dir, 'v.db'));
    const c = await start(dir);
    await c.stop();
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });

  it('a running server re-issues the certificate in place once it is due; new connections get it', async () => {
    const dir = temp();
    const a = await start(dir);
    try {
      expect(await a.mon.refreshWorkerApiCert(Date.now())).toBe(false);
      expect(await presented(a.mon.workerPort)).toBe(a.fingerprint);
      // 300 days on: past two thirds of the 397-day lifetime (the new certificate is issued for that clock).
      expect(await a.mon.refreshWorkerApiCert(Date.now() + 300 * DAY)).toBe(true);
      const now = await presented(a.mon.workerPort);
      expect(now).not.toBe(a.fingerprint);
      expect(new X509Certificate(readFileSync(serverCertFiles(dir).certFile, 'utf8')).fingerprint256).toBe(now);
    } finally {
      await a.stop();
    }
  });
});
