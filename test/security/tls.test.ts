import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTlsMaterial, reloadTls } from '../../src/http/tls.js';
import { makeCert, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const a = makeCert(join(tmp.dir, 'a'), 'a.test.local');
const b = makeCert(join(tmp.dir, 'b'), 'b.test.local');

describe('loadTlsMaterial', () => {
  it('loads a matching certificate and key', () => {
    const m = loadTlsMaterial(a.cert, a.key);
    expect(new X509Certificate(m.cert).subject).toContain('a.test.local');
  });

  it('names the setting for a missing file, a non-PEM file and a key of another certificate', () => {
    expect(() => loadTlsMaterial(join(tmp.dir, 'missing.crt'), a.key)).toThrow(/^tls_cert_file: .*no such file/);
    expect(() => loadTlsMaterial(a.cert, join(tmp.dir, 'missing.key'))).toThrow(/^tls_key_file: .*no such file/);
    const junk = join(tmp.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    expect(() => loadTlsMaterial(junk, a.key)).toThrow(/^tls_cert_file: .*not a PEM file/);
    expect(() => loadTlsMaterial(a.cert, b.key)).toThrow(/^tls_key_file: .*does not belong to the certificate/);
    expect(() => loadTlsMaterial('', '')).toThrow(/tls_cert_file and tls_key_file/);
  });
});

function handshake(port: number, socketOpts: { keepOpen?: boolean } = {}): Promise<{ subject: string; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' }, () => {
      const subject = s.getPeerX509Certificate()?.subject ?? '';
      if (!socketOpts.keepOpen) s.end();
      resolve({ subject, socket: s });
    });
    s.on('error', reject);
  });
}

function requestOn(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\r\n\r\n') && buf.endsWith('ok')) {
        socket.off('data', onData);
        resolve(buf);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  });
}

describe('reloadTls on a running HTTPS server', () => {
  it('new handshakes get the new certificate; an open connection keeps working; a bad file keeps the old one', async () => {
    const liveCert = join(tmp.dir, 'live.crt');
    const liveKey = join(tmp.dir, 'live.key');
    copyFileSync(a.cert, liveCert);
    copyFileSync(a.key, liveKey);
    const m = loadTlsMaterial(liveCert, liveKey);
    const server: Server = createServer({ cert: m.cert, key: m.key, keepAliveTimeout: 30_000 }, (_req, res) => {
      res.setHeader('Content-Length', '2');
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const first = await handshake(port, { keepOpen: true });
      expect(first.subject).toContain('a.test.local');
      expect(await requestOn(first.socket)).toContain('200 OK');

      // Swap the files (as certbot would) and reload.
      copyFileSync(b.cert, liveCert);
      copyFileSync(b.key, liveKey);
      const r = reloadTls(server, liveCert, liveKey);
      expect(r.ok).toBe(true);
      expect((await handshake(port)).subject).toContain('b.test.local');
      // The connection made before the reload is still served.
      expect(await requestOn(first.socket)).toContain('200 OK');
      first.socket.destroy();

      // A key that does not match: rejected, old (b) certificate stays.
      copyFileSync(a.key, liveKey);
      const bad = reloadTls(server, liveCert, liveKey);
      expect(bad.ok).toBe(false);
      expect(!bad.ok && bad.error).toMatch(/tls_key_file/);
      expect((await handshake(port)).subject).toContain('b.test.local');
      expect(readFileSync(liveCert, 'utf8')).toBe(readFileSync(b.cert, 'utf8'));
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
