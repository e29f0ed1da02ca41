import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  key: string;
  cert: string;
}

/** A self-signed P-256 certificate for `cn` with the given SANs, valid for `days`, made by openssl. */
export function selfSignedCert(opts: { cn?: string; san?: string[]; days?: number } = {}): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    const san = opts.san ?? ['DNS:localhost', 'IP:127.0.0.1'];
    execFileSync(
      'openssl',
      [
        'req', '-x509',
        '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-nodes', '-keyout', keyPath, '-out', certPath,
        '-days', String(opts.days ?? 30),
        '-subj', `/CN=${opts.cn ?? 'localhost'}/O=Vantage Test`,
        '-addext', `subjectAltName=${san.join(',')}`,
      ],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
