/**
 * Enrollment uses one TLS connection, and the checks node:tls would have made on a second, verified connection
 * are made by hand on that one before the token is sent: the chain must end in the pinned CA, and the leaf must
 * be signed by it, valid now, for server authentication and for the host name. Impostor servers (real sockets)
 * that present the real CA certificate with a leaf it did not sign, or a worker's client certificate, receive
 * no byte of the request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMonitoringPlane, type MonitoringHandle } from '../../src/app/monitoring.js';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { enroll } from '../../src/agent/worker/credentials.js';
import { createCa } from '../../src/pki/ca.js';
import { createCsr, issueServerCert, issueWorkerCert, parseCsr } from '../../src/pki/issue.js';

let dir: string;
let opened: OpenedStore;
let mon: MonitoringHandle;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-enroll-conn-'));
  opened = openSqliteStore(join(dir, 'v.db'));
  mon = await startMonitoringPlane({
    config: { host: '127.0.0.1', worker_port: 0, worker_auth: 'mtls', pki_ca_cert_file: join(dir, 'ca', 'ca.pem'), pki_ca_key_file: join(dir, 'ca', 'ca-key.pem') },
    logger: pino({ level: 'silent' }),
    store: opened.monitoring,
    pkiStore: opened.pki,
    engine: 'sqlite',
    leader: opened.leader,
    registry: new Registry(),
  });
});
afterAll(async () => {
  await mon.stop();
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A TCP relay to `port` that counts the connections made through it. */
async function countingRelay(port: number): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((c) => {
    n++;
    const up = net.connect(port, '127.0.0.1');
    open.add(c).add(up);
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => n,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        for (const s of open) s.destroy();
      }),
  };
}

/** A TLS server presenting `cert` (+ chain) that records whether any application byte arrived. */
async function impostor(cert: string, key: string): Promise<{ port: number; received: () => number; close: () => Promise<void> }> {
  let bytes = 0;
  const server = tls.createServer({ cert, key }, (s) => {
    s.on('data', (d: Buffer) => (bytes += d.length));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, received: () => bytes, close: () => new Promise((r) => server.close(() => r())) };
}

describe('enrollment over one connection', () => {
  it('one TCP connection per enrollment', async () => {
    const relay = await countingRelay(mon.workerPort);
    try {
      const token = await mon.pki!.createToken({ region: 'global', ttlMs: 60_000, uses: 1 });
      const r = await enroll({ workerUrl: `https://127.0.0.1:${relay.port}`, token, caFingerprint: mon.pki!.caFingerprint, region: 'global', hostname: 'h', stateDir: join(dir, 'one') });
      expect(r.credentials.workerId).toMatch(/^wrk_/);
      expect(relay.connections()).toBe(1);
    } finally {
      await relay.close();
    }
  });

  it('refuses a leaf the pinned CA did not sign, even with the real CA certificate appended; the token is not sent', async () => {
    // Same subject name as the real CA, so the presented chain links by name.
    const fake = await createCa(Date.now(), 'Vantage worker CA');
    const leaf = await issueServerCert(fake, ['localhost', '127.0.0.1'], Date.now());
    const srv = await impostor(leaf.certPem + mon.pki!.ca.certPem, leaf.keyPem);
    try {
      const token = await mon.pki!.createToken({ region: 'global', ttlMs: 60_000, uses: 1 });
      await expect(enroll({ workerUrl: `https://127.0.0.1:${srv.port}`, token, caFingerprint: mon.pki!.caFingerprint, region: 'global', hostname: 'h', stateDir: join(dir, 'x1') })).rejects.toThrow(
        /not signed by its CA|no certificate chain ending in a CA/,
      );
      // Without a pin (trust on first use) the fake chain is still refused: its leaf does not verify.
      await expect(enroll({ workerUrl: `https://127.0.0.1:${srv.port}`, token, caFingerprint: '', region: 'global', hostname: 'h', stateDir: join(dir, 'x1b') })).rejects.toThrow(
        /not signed by its CA|no certificate chain ending in a CA/,
      );
      expect(srv.received()).toBe(0);
    } finally {
      await srv.close();
    }
  });

  it('refuses a worker client certificate of the real CA presented as a server certificate', async () => {
    const { keyPem, csrPem } = await createCsr('stolen');
    const client = await issueWorkerCert(mon.pki!.ca, await parseCsr(csrPem), { workerId: 'wrk_stolen', region: 'global', now: Date.now(), days: 1 });
    const srv = await impostor(client.pem + mon.pki!.ca.certPem, keyPem);
    try {
      const token = await mon.pki!.createToken({ region: 'global', ttlMs: 60_000, uses: 1 });
      await expect(enroll({ workerUrl: `https://127.0.0.1:${srv.port}`, token, caFingerprint: mon.pki!.caFingerprint, region: 'global', hostname: 'h', stateDir: join(dir, 'x2') })).rejects.toThrow(
        /not for server authentication/,
      );
      expect(srv.received()).toBe(0);
    } finally {
      await srv.close();
    }
  });

  it('refuses a server certificate of the real CA for another host name', async () => {
    const leaf = await issueServerCert(mon.pki!.ca, ['elsewhere.example'], Date.now());
    const srv = await impostor(leaf.certPem + mon.pki!.ca.certPem, leaf.keyPem);
    try {
      const token = await mon.pki!.createToken({ region: 'global', ttlMs: 60_000, uses: 1 });
      await expect(enroll({ workerUrl: `https://127.0.0.1:${srv.port}`, token, caFingerprint: mon.pki!.caFingerprint, region: 'global', hostname: 'h', stateDir: join(dir, 'x3') })).rejects.toThrow(
        /IP: 127\.0\.0\.1 is not in the cert's list/,
      );
      expect(srv.received()).toBe(0);
    } finally {
      await srv.close();
    }
  });
});
