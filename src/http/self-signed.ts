/**
 * The web port's self-signed certificate (seed 003: "TLS enabled by default (self-signed)"): an ECDSA P-256
 * certificate for localhost, 127.0.0.1, ::1 and this host's name, valid for 825 days, generated once with
 * @peculiar/x509 (keys from node:crypto's WebCrypto) and kept in `<state_dir>/web-tls/` (key file mode 0600).
 * Later starts reuse the files, so a browser's exception for the certificate survives restarts.
 */
import { webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { x509 } from '../pki/x509.js';

export interface CertFiles {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  /** True when this call generated the pair. */
  generated: boolean;
}

const DAY = 86_400_000;

export async function selfSignedWebCert(stateDir: string, now = Date.now()): Promise<CertFiles> {
  const dir = join(stateDir, 'web-tls');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile, generated: false };
  }
  const crypto = webcrypto;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const host = hostname();
  const names: { type: 'dns' | 'ip'; value: string }[] = [
    { type: 'dns', value: 'localhost' },
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '::1' },
  ];
  if (host && host !== 'localhost' && /^[A-Za-z0-9.-]+$/.test(host)) names.push({ type: 'dns', value: host });
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    name: 'CN=Vantage web (self-signed), O=Vantage',
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 825 * DAY),
    signingAlgorithm: alg,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  const certPem = cert.toString('pem');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, keyPem + '\n', { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, certPem + '\n');
  return { cert: certPem, key: keyPem, certFile, keyFile, generated: true };
}
