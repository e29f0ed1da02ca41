/**
 * The worker CA: created on first start or loaded from `pki_ca_cert_file` / `pki_ca_key_file`. Files are
 * written 0600 (key) and 0644 (certificate); a key file readable by group or others is refused. The default
 * directory follows the seed: /var/lib/vantage as root, ~/.vantage otherwise.
 */
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes, webcrypto } from 'node:crypto';
import { certPem, type CryptoKey, fingerprint, generateKeyPair, importPrivateKey, newSerial, privateKeyPem, SIGNING_ALG, x509 } from './x509.js';

export class PkiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PkiError';
  }
}

/** A loaded CA: the certificate, its signing key and where they came from. */
export interface Ca {
  cert: x509.X509Certificate;
  certPem: string;
  key: CryptoKey;
  /** PKCS#8 PEM of the key (sealing it for the database needs the bytes). */
  keyPem: string;
  fingerprint: string;
}

export const CA_YEARS = 10;

/** /var/lib/vantage for root, ~/.vantage for anyone else (the seed's rule for its own paths). */
export function defaultPkiDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/vantage' : join(homedir(), '.vantage');
}

export function defaultCaPaths(dir = defaultPkiDir()): { certFile: string; keyFile: string } {
  return { certFile: join(dir, 'ca.pem'), keyFile: join(dir, 'ca-key.pem') };
}

/** Refuses a private-key file that group or others can read (or write). */
export function checkKeyFilePermissions(setting: string, file: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new PkiError(
      `${setting}: ${file} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); expected 0600 (run: chmod 600 ${file})`,
    );
  }
}

/** Creates a new CA certificate and key (not written anywhere). */
export async function createCa(now: number, commonName = 'Vantage worker CA'): Promise<Ca> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: `CN=${commonName}, O=Vantage`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_YEARS * 365 * 86_400_000),
    signingAlgorithm: SIGNING_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = await privateKeyPem(keys.privateKey);
  return { cert, certPem: certPem(cert), key: keys.privateKey, keyPem, fingerprint: fingerprint(cert) };
}

/** Builds a Ca from PEM text, checking that the key belongs to the certificate and that it is a CA. */
export async function caFromPem(certText: string, keyText: string, where: { cert: string; key: string }): Promise<Ca> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certText);
  } catch (err) {
    throw new PkiError(`${where.cert}: not a PEM certificate (${(err as Error).message})`);
  }
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) throw new PkiError(`${where.cert}: the certificate is not a CA (basicConstraints CA:TRUE missing)`);
  let key: CryptoKey;
  try {
    key = await importPrivateKey(keyText);
  } catch (err) {
    throw new PkiError(`${where.key}: ${(err as Error).message}`);
  }
  // The key belongs to the certificate when a signature it makes verifies with the certificate's public key.
  const probe = Buffer.from('vantage-ca-key-check');
  const sig = await webcrypto.subtle.sign(SIGNING_ALG, key, probe);
  const pub = await cert.publicKey.export(SIGNING_ALG, ['verify']);
  if (!(await webcrypto.subtle.verify(SIGNING_ALG, pub as unknown as CryptoKey, sig, probe))) {
    throw new PkiError(`${where.key}: the key does not belong to the CA certificate in ${where.cert}`);
  }
  return { cert, certPem: certPem(cert), key, keyPem: keyText, fingerprint: fingerprint(cert) };
}

function readText(setting: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PkiError(`${setting}: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
}

/** Loads the CA from its two files (key file permissions checked first). */
export async function loadCaFiles(certFile: string, keyFile: string): Promise<Ca> {
  const certText = readText('pki_ca_cert_file', certFile);
  if (!existsSync(keyFile)) throw new PkiError(`pki_ca_key_file: cannot read ${keyFile}: no such file`);
  checkKeyFilePermissions('pki_ca_key_file', keyFile);
  const keyText = readText('pki_ca_key_file', keyFile);
  return caFromPem(certText, keyText, { cert: `pki_ca_cert_file ${certFile}`, key: `pki_ca_key_file ${keyFile}` });
}

/** Writes a file with `mode`, creating its directory (0700) and fixing the mode of an existing file. */
export function writePrivate(file: string, text: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
}

export function writeCaFiles(ca: Ca, certFile: string, keyFile: string): void {
  writePrivate(keyFile, ca.keyPem, 0o600);
  writePrivate(certFile, ca.certPem, 0o644);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Links `from` to `to` unless `to` exists (atomic); false when it existed. */
function linkIfAbsent(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
    // A file system without hard links: exclusive create (a racing reader may see a partly written file).
    try {
      writeFileSync(to, readFileSync(from), { flag: 'wx', mode: statSync(from).mode & 0o777 });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  }
}

/**
 * Writes a new CA's files unless another process (a second server starting at the same moment with the same
 * paths) writes its own first: each file is written complete under a temporary name and linked into place,
 * the key first, so exactly one CA ends on disk. The loser waits (up to `waitMs`) for the winner's certificate
 * and loads the winner's pair. Returns the CA on disk and whether it is `ca`.
 */
export async function writeCaFilesOnce(ca: Ca, certFile: string, keyFile: string, waitMs = 5_000): Promise<{ ca: Ca; created: boolean }> {
  const tag = `.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writePrivate(`${keyFile}${tag}`, ca.keyPem, 0o600);
  writePrivate(`${certFile}${tag}`, ca.certPem, 0o644);
  try {
    if (linkIfAbsent(`${keyFile}${tag}`, keyFile)) {
      if (!linkIfAbsent(`${certFile}${tag}`, certFile)) {
        throw new PkiError(`pki_ca_cert_file: ${certFile} appeared while this server was writing a new CA with ${keyFile}; remove both and start again`);
      }
      return { ca, created: true };
    }
  } finally {
    rmSync(`${keyFile}${tag}`, { force: true });
    rmSync(`${certFile}${tag}`, { force: true });
  }
  const deadline = Date.now() + waitMs;
  while (!existsSync(certFile) && Date.now() < deadline) await sleep(20);
  return { ca: await loadCaFiles(certFile, keyFile), created: false };
}

/**
 * The CA of a single server (SQLite): loaded from the files when they exist, else created and written there
 * (once, however many servers start together on the same paths). Only one of the two files existing is an
 * error (a lost key must not silently become a new CA).
 */
export async function loadOrCreateCaFiles(certFile: string, keyFile: string, now: number): Promise<{ ca: Ca; created: boolean }> {
  const haveCert = existsSync(certFile);
  const haveKey = existsSync(keyFile);
  if (haveCert && haveKey) return { ca: await loadCaFiles(certFile, keyFile), created: false };
  if (haveCert !== haveKey) {
    throw new PkiError(
      `pki_ca_cert_file/pki_ca_key_file: ${haveCert ? certFile : keyFile} exists but ${haveCert ? keyFile : certFile} does not; restore the missing file or remove both to create a new CA (every enrolled worker must then enroll again)`,
    );
  }
  return writeCaFilesOnce(await createCa(now), certFile, keyFile);
}
