import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/**
 * TLS material for HTTPS serving (`tls_cert_file`, `tls_key_file`). Files are read and checked together
 * (the key must match the certificate) before they are used, so a bad file at startup is an error naming the
 * setting, and a bad file on SIGHUP leaves the running certificate in place.
 */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
}

export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

function readPem(setting: string, file: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new TlsConfigError(`${setting}: cannot read ${file}: ${why}`);
  }
  if (!data.toString('latin1').includes('-----BEGIN ')) {
    throw new TlsConfigError(`${setting}: ${file} is not a PEM file (no "-----BEGIN" line)`);
  }
  return data;
}

export function loadTlsMaterial(certFile: string, keyFile: string): TlsMaterial {
  if (!certFile || !keyFile) throw new TlsConfigError('tls_cert_file and tls_key_file: both must be set to serve HTTPS');
  const cert = readPem('tls_cert_file', certFile);
  const key = readPem('tls_key_file', keyFile);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const msg = (err as Error).message;
    if (/key values mismatch/i.test(msg)) {
      throw new TlsConfigError(`tls_key_file: ${keyFile} does not belong to the certificate in tls_cert_file (${certFile})`);
    }
    throw new TlsConfigError(`tls_cert_file/tls_key_file: ${certFile}, ${keyFile}: ${msg}`);
  }
  return { cert, key, certFile, keyFile };
}

/** Anything with tls.Server's setSecureContext (https.Server, http2.Http2SecureServer). */
export interface SecureContextTarget {
  setSecureContext(options: { cert: Buffer; key: Buffer }): void;
}

/**
 * Re-reads the certificate files and installs them on the running server. New handshakes use the new
 * certificate; established connections are not touched. On failure the old certificate stays and the error
 * (naming the setting) is returned.
 */
export function reloadTls(server: SecureContextTarget, certFile: string, keyFile: string): { ok: true; material: TlsMaterial } | { ok: false; error: string } {
  let material: TlsMaterial;
  try {
    material = loadTlsMaterial(certFile, keyFile);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  server.setSecureContext({ cert: material.cert, key: material.key });
  return { ok: true, material };
}
