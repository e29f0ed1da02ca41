/**
 * The worker API's server certificate, kept in `<state_dir>/worker-tls/` (cert.pem 0644, key.pem 0600) so it is
 * not re-made at every start. It is re-issued (new key, signed by the CA) when the files are missing or broken,
 * the key does not match, the CA changed, a wanted name is missing, or two thirds of its lifetime have passed.
 * `serverCertVerdict` is the pure decision; `workerApiServerCert` does the file I/O around it.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Ca } from './ca.js';
import { writePrivate } from './ca.js';
import { issueServerCert } from './issue.js';

export interface ServerCertPair {
  certPem: string;
  keyPem: string;
}

export type ServerCertVerdict = { reuse: true } | { reuse: false; reason: string };

/** Lifetime of an issued worker API certificate, in days (the CA/Browser limit, 397, though only workers see it). */
export const SERVER_CERT_DAYS = 397;

/** The names a certificate covers: DNS names and IP addresses of its subjectAltName. */
function certNames(cert: X509Certificate): Set<string> {
  const out = new Set<string>();
  for (const part of (cert.subjectAltName ?? '').split(/,\s*/)) {
    const m = /^(DNS|IP Address):(.+)$/.exec(part.trim());
    if (m) out.add(normaliseName(m[2]!.trim()));
  }
  return out;
}

/** One spelling per name: lower case, IPv6 as eight unpadded hex groups (how node prints it in subjectAltName). */
function normaliseName(n: string): string {
  const v = n.toLowerCase();
  if (isIP(v) !== 6 || v.includes('.')) return v;
  const [head, tail] = v.includes('::') ? v.split('::') : [v, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(16)).join(':');
}

/** Whether `existing` can be served again for `ca` and `names` at `now`, and if not, why. */
export function serverCertVerdict(existing: ServerCertPair | null, ca: Ca, names: readonly string[], now: number): ServerCertVerdict {
  if (existing === null) return { reuse: false, reason: 'no stored certificate' };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(existing.certPem);
  } catch {
    return { reuse: false, reason: 'the stored certificate does not parse' };
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(existing.keyPem))) return { reuse: false, reason: 'the stored key does not belong to the certificate' };
  } catch {
    return { reuse: false, reason: 'the stored key does not parse' };
  }
  const caCert = new X509Certificate(ca.certPem);
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return { reuse: false, reason: 'the worker CA changed' };
  const have = certNames(cert);
  const lacking = names.map(normaliseName).filter((n) => !have.has(n));
  if (lacking.length > 0) return { reuse: false, reason: `names not covered: ${lacking.join(', ')}` };
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (now >= to) return { reuse: false, reason: 'the stored certificate expired' };
  if (now >= from + ((to - from) * 2) / 3) return { reuse: false, reason: 'two thirds of its lifetime have passed' };
  return { reuse: true };
}

export function serverCertFiles(stateDir: string): { certFile: string; keyFile: string } {
  const dir = join(stateDir, 'worker-tls');
  return { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
}

function readPair(stateDir: string): ServerCertPair | null {
  const { certFile, keyFile } = serverCertFiles(stateDir);
  if (!existsSync(certFile) || !existsSync(keyFile)) return null;
  try {
    return { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
  } catch {
    return null;
  }
}

export interface ServerCertOutcome extends ServerCertPair {
  /** 'reused' (from the files), or why it was issued now. */
  issued: false | string;
  /** Where it is kept; null when it could not be written (then it lives in memory only, and the error says why). */
  stored: string | null;
  writeError?: string;
}

/**
 * The worker API certificate for `ca` and `names`: the stored one when it is still good, else a new one,
 * written back. Without `stateDir` it is made in memory only (`current`, the pair served now, is then the one
 * judged).
 */
export async function workerApiServerCert(o: { ca: Ca; names: readonly string[]; now: number; stateDir: string | null; current?: ServerCertPair | null }): Promise<ServerCertOutcome> {
  const existing = o.stateDir === null ? (o.current ?? null) : readPair(o.stateDir);
  const verdict = serverCertVerdict(existing, o.ca, o.names, o.now);
  if (verdict.reuse) return { ...existing!, issued: false, stored: o.stateDir === null ? null : serverCertFiles(o.stateDir).certFile };
  const fresh = await issueServerCert(o.ca, o.names, o.now, SERVER_CERT_DAYS);
  if (o.stateDir === null) return { ...fresh, issued: verdict.reason, stored: null };
  const { certFile, keyFile } = serverCertFiles(o.stateDir);
  try {
    // The key first: a crash between the two writes leaves a mismatched pair, which the next start re-issues.
    writePrivate(keyFile, fresh.keyPem, 0o600);
    writePrivate(certFile, fresh.certPem, 0o644);
    return { ...fresh, issued: verdict.reason, stored: certFile };
  } catch (err) {
    return { ...fresh, issued: verdict.reason, stored: null, writeError: (err as Error).message };
  }
}
