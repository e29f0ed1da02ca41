import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport, TransportError } from '../../src/agent/reporter/transport.js';

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('insecure_tls', () => {
  it('needs openssl on the machine (installed by .ci/run)', () => {
    expect(haveOpenssl()).toBe(true);
  });

  const dir = mkdtempSync(join(tmpdir(), 'vantage-tls-'));
  let server: Server;
  let url = '';
  const keys: Array<string | undefined> = [];
  beforeAll(async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
      keys.push(req.headers['x-api-key'] as string | undefined);
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a self-signed server certificate by default', async () => {
    const t = createTransport({ serverUrl: url, serverKey: 'k', insecureTls: false, timeoutMs: 2000 });
    const err = await t.post('/stats', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).kind).toBe('network');
    expect((err as TransportError).message).toMatch(/SELF_SIGNED|CERT/);
    await t.close();
  });

  it('accepts it with insecure_tls, sending the key over TLS', async () => {
    const t = createTransport({ serverUrl: url, serverKey: 'k', insecureTls: true, timeoutMs: 2000 });
    expect(await t.post('/stats', {})).toEqual({ status: 200, body: { status: 'ok' } });
    expect(keys.at(-1)).toBe('k');
    await t.close();
  });
});
