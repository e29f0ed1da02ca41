/**
 * The X.509 toolkit every PKI file uses: @peculiar/x509 (which needs reflect-metadata loaded first) on
 * node:crypto's WebCrypto. Keys are ECDSA P-256 with SHA-256 signatures: every TLS stack a worker may run
 * (Node, Go, OpenSSL 1.1+, browsers for the web port) accepts P-256 client and server certificates, while
 * Ed25519 certificates are still refused by several TLS clients and by browsers.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPrivateKey, webcrypto } from 'node:crypto';

// The DOM Crypto type the library declares differs between tsconfigs (with and without lib "dom"); the object is the same.
x509.cryptoProvider.set(webcrypto as never);

export type CryptoKey = webcrypto.CryptoKey;
export type KeyPair = webcrypto.CryptoKeyPair;

export { x509 };

export const SIGNING_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;


export async function generateKeyPair(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(SIGNING_ALG, true, ['sign', 'verify'])) as KeyPair;
}

/** PKCS#8 PEM of a private key (what node:tls and the key files take). */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

/** Imports a PEM private key (PKCS#8 or SEC1 "EC PRIVATE KEY") for signing; throws when it is not P-256. */
export async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const k = createPrivateKey(pem);
  if (k.asymmetricKeyType !== 'ec' || k.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`expected an ECDSA P-256 private key, got ${k.asymmetricKeyType ?? 'unknown'} ${k.asymmetricKeyDetails?.namedCurve ?? ''}`.trim());
  }
  const der = k.export({ type: 'pkcs8', format: 'der' });
  return (await webcrypto.subtle.importKey('pkcs8', der, SIGNING_ALG, false, ['sign'])) as CryptoKey;
}

export function certPem(cert: x509.X509Certificate): string {
  return cert.toString('pem') + '\n';
}

/** sha256 of a certificate's DER, lower-case hex (the CA fingerprint agents pin). */
export function fingerprint(cert: x509.X509Certificate | Buffer): string {
  const der = Buffer.isBuffer(cert) ? cert : Buffer.from(cert.rawData);
  return createHash('sha256').update(der).digest('hex');
}

/** Accepts "sha256:AB:CD…", "abcd…" and colon-separated hex; returns lower-case hex or null. */
export function normaliseFingerprint(v: string): string | null {
  const hex = v.trim().replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

/** A random 16-byte serial, positive (high bit clear), upper-case hex like Node's getPeerCertificate(). */
export function newSerial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x01;
  return Buffer.from(b).toString('hex').toUpperCase();
}
