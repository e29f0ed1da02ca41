/**
 * Certificates the CA signs: worker client certificates from a CSR (the worker's key never leaves its host),
 * and the worker API's server certificate. A worker certificate names the worker in its subject CN and in a
 * SAN URI `urn:vantage:worker:<id>`, and its region in `urn:vantage:region:<region>`.
 */
import { hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import type { Ca } from './ca.js';
import { PkiError } from './ca.js';
import { certPem, generateKeyPair, newSerial, privateKeyPem, SIGNING_ALG, x509 } from './x509.js';

export const WORKER_URI_PREFIX = 'urn:vantage:worker:';
export const REGION_URI_PREFIX = 'urn:vantage:region:';

export interface IssuedCert {
  serial: string;
  pem: string;
  notBefore: number;
  notAfter: number;
}

/** Parses and verifies a PEM CSR (its self-signature); throws a PkiError naming `csr`. */
export async function parseCsr(pem: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw new PkiError('csr: expected a PEM certificate signing request ("-----BEGIN CERTIFICATE REQUEST-----")');
  }
  const alg = csr.publicKey.algorithm as { name: string; namedCurve?: string };
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') throw new PkiError('csr: expected an ECDSA P-256 public key');
  if (!(await csr.verify())) throw new PkiError('csr: the signature does not verify (the request was altered or not signed by its key)');
  return csr;
}

export async function issueWorkerCert(
  ca: Ca,
  csr: x509.Pkcs10CertificateRequest,
  w: { workerId: string; region: string; now: number; days: number },
): Promise<IssuedCert> {
  const serial = newSerial();
  const notBefore = w.now - 60_000;
  const notAfter = w.now + w.days * 86_400_000;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${w.workerId}, OU=${w.region}, O=Vantage workers`,
    issuer: ca.cert.subject,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    signingAlgorithm: SIGNING_ALG,
    publicKey: csr.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: `${WORKER_URI_PREFIX}${w.workerId}` },
        { type: 'url', value: `${REGION_URI_PREFIX}${w.region}` },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { serial: serial.replace(/^0+/, ''), pem: certPem(cert), notBefore, notAfter };
}

/** The names the worker API's certificate covers: localhost, loopback, this host's name, and `extra`. */
export function serverNames(extra: readonly string[] = []): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', osHostname(), ...extra].filter((n) => n !== ''))];
}

/** A fresh key and server certificate for the worker API (kept and reused by src/pki/server-cert.ts). */
export async function issueServerCert(ca: Ca, names: readonly string[], now: number, days = 397): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: `CN=${names[0] ?? 'localhost'}, O=Vantage worker API`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * 86_400_000),
    signingAlgorithm: SIGNING_ALG,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certPem: certPem(cert), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A key and CSR made on the worker (agent enrollment and renewal). */
export async function createCsr(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName}`, keys, signingAlgorithm: SIGNING_ALG });
  return { keyPem: await privateKeyPem(keys.privateKey), csrPem: csr.toString('pem') + '\n' };
}
