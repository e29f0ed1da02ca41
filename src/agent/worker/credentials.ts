/**
 * The worker's credentials on the worker API.
 * - Legacy: the cluster token, or the server key when no token is set (`authHeaders`).
 * - Enrolled: a key made here (it never leaves the host), the certificate the CA signed and the CA itself,
 *   kept in state_dir as worker-key.pem, worker-cert.pem and worker-ca.pem, all 0600.
 * Enrollment uses one TLS connection and pins the CA: the server's chain must end in the CA whose fingerprint was given
 * (`--ca-fingerprint`, `ca_fingerprint`), or, without one, the CA seen on this first contact is trusted and
 * kept. Renewal happens over mTLS with a new key once two thirds of the lifetime have passed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { join } from 'node:path';
import { createCsr } from '../../pki/issue.js';
import { fingerprint, normaliseFingerprint, x509 } from '../../pki/x509.js';
import { writePrivate } from '../../pki/ca.js';
import { httpsUrl, type WorkerTls } from './transport.js';

export function authHeaders(cfg: { cluster_token: string; server_key: string }): Record<string, string> {
  const token = cfg.cluster_token !== '' ? cfg.cluster_token : cfg.server_key;
  return token === '' ? {} : { authorization: `Bearer ${token}` };
}

export interface WorkerCredentials extends WorkerTls {
  workerId: string;
  region: string;
  notBefore: number;
  notAfter: number;
}

export class EnrollmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnrollmentError';
  }
}

export function credentialFiles(stateDir: string): { key: string; cert: string; ca: string } {
  return { key: join(stateDir, 'worker-key.pem'), cert: join(stateDir, 'worker-cert.pem'), ca: join(stateDir, 'worker-ca.pem') };
}

function describe(key: string, certPem: string, ca: string): WorkerCredentials {
  const c = new x509.X509Certificate(certPem);
  const san = c.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = (san?.names.toJSON() ?? []).filter((n) => n.type === 'url').map((n) => n.value);
  const workerId = uris.find((u) => u.startsWith('urn:vantage:worker:'))?.slice('urn:vantage:worker:'.length) ?? '';
  const region = uris.find((u) => u.startsWith('urn:vantage:region:'))?.slice('urn:vantage:region:'.length) ?? 'global';
  return { key, cert: certPem, ca, workerId, region, notBefore: c.notBefore.getTime(), notAfter: c.notAfter.getTime() };
}

/** The stored credentials, or null when this agent has not enrolled. */
export function loadCredentials(stateDir: string): WorkerCredentials | null {
  const f = credentialFiles(stateDir);
  if (!existsSync(f.key) || !existsSync(f.cert) || !existsSync(f.ca)) return null;
  return describe(readFileSync(f.key, 'utf8'), readFileSync(f.cert, 'utf8'), readFileSync(f.ca, 'utf8'));
}

export function saveCredentials(stateDir: string, c: { key: string; cert: string; ca: string }): WorkerCredentials {
  const f = credentialFiles(stateDir);
  // The key last: a crash part-way leaves no key paired with the wrong certificate for long.
  writePrivate(f.ca, c.ca, 0o600);
  writePrivate(f.cert, c.cert, 0o600);
  writePrivate(f.key, c.key, 0o600);
  return describe(c.key, c.cert, c.ca);
}

/** Renewal is due once two thirds of the certificate's lifetime have passed. */
export function renewalDueAt(c: Pick<WorkerCredentials, 'notBefore' | 'notAfter'>): number {
  return c.notBefore + Math.floor(((c.notAfter - c.notBefore) * 2) / 3);
}

/**
 * One TLS connection for the whole enrollment: the server's chain is read (leaf + CA), the CA at its end must
 * be the pinned one (or, without a pin, is taken on first use), and the leaf is then verified against that CA
 * here (signature, validity, serverAuth, host name), since node:tls could not verify it without knowing the CA
 * in advance. Only then is the token sent, over the same connection.
 */
function pinnedConnection(url: URL, want: string | null): Promise<{ socket: tls.TLSSocket; caPem: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const fail = (s: tls.TLSSocket, message: string): void => {
      s.destroy();
      reject(new EnrollmentError(`${url.origin}: ${message}`));
    };
    const s = tls.connect({ host, port: Number(url.port || 443), servername: isIP(host) ? undefined : host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const leaf = s.getPeerCertificate(true);
      let root = leaf;
      const seen = new Set<string>();
      while (root?.issuerCertificate && root.issuerCertificate !== root && !seen.has(root.fingerprint256)) {
        seen.add(root.fingerprint256);
        root = root.issuerCertificate;
      }
      if (!leaf?.raw || !root?.raw || root === leaf) return fail(s, 'the server presented no certificate chain ending in a CA');
      const caDer = root.raw;
      const seenFp = fingerprint(caDer);
      if (want !== null && seenFp !== want) {
        return fail(s, `the server's CA is sha256:${seenFp}, not the expected sha256:${want}; not enrolling (someone may be intercepting the connection)`);
      }
      const ca = new X509Certificate(caDer);
      const cert = new X509Certificate(leaf.raw);
      const now = Date.now();
      if (!ca.ca) return fail(s, 'the certificate at the end of the server\'s chain is not a CA');
      if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return fail(s, 'the server certificate is not signed by its CA');
      if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) return fail(s, 'the server certificate is not valid now');
      if (!(cert.keyUsage ?? []).includes(SERVER_AUTH_OID)) return fail(s, 'the server certificate is not for server authentication');
      const hostError = tls.checkServerIdentity(host, leaf);
      if (hostError) return fail(s, hostError.message);
      resolve({ socket: s, caPem: new x509.X509Certificate(caDer).toString('pem') + '\n', fingerprint: seenFp });
    });
    s.once('error', (e) => reject(new EnrollmentError(`${url.origin}: cannot connect: ${e.message}`)));
    s.setTimeout(10_000, () => s.destroy(new Error('timed out')));
  });
}

const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';

/** POST JSON; over `o.socket` (an already verified connection) when given, else a new one verified against `o.ca`. */
function postJson(url: URL, body: unknown, o: { ca: string; key?: string; cert?: string; socket?: tls.TLSSocket }): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const socket = o.socket;
    const req = https.request(
      url,
      {
        method: 'POST',
        ca: o.ca,
        key: o.key,
        cert: o.cert,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...(socket ? { connection: 'close' } : {}) },
        timeout: 15_000,
        // createConnection without an agent: node then uses this socket (agent: false would make a new one).
        ...(socket ? { createConnection: () => socket } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            /* not JSON: the status tells */
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.once('error', (e) => reject(new EnrollmentError(`${url.origin}: ${e.message}`)));
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.end(data);
  });
}

export interface EnrollOptions {
  workerUrl: string;
  token: string;
  /** sha256 fingerprint to pin; empty = trust the CA of this first contact */
  caFingerprint: string;
  region: string;
  hostname: string;
  stateDir: string;
}

/** Enrolls: key and CSR made here, token and CSR sent, certificate and CA stored. Returns the credentials and the pinned fingerprint. */
export async function enroll(o: EnrollOptions): Promise<{ credentials: WorkerCredentials; caFingerprint: string; pinned: 'given' | 'first-contact' }> {
  const url = new URL(httpsUrl(o.workerUrl));
  const want = o.caFingerprint === '' ? null : normaliseFingerprint(o.caFingerprint);
  if (o.caFingerprint !== '' && want === null) throw new EnrollmentError('--ca-fingerprint: expected a sha256 fingerprint (64 hex digits)');
  // The key and CSR first, so the connection is not held open while they are made.
  const { keyPem, csrPem } = await createCsr(o.hostname || 'vantage-worker');
  const conn = await pinnedConnection(url, want);
  const seen = conn.fingerprint;
  let r: Awaited<ReturnType<typeof postJson>>;
  try {
    r = await postJson(new URL('/v1/enroll', url), { token: o.token, csr: csrPem, region: o.region, hostname: o.hostname }, { ca: conn.caPem, socket: conn.socket });
  } finally {
    conn.socket.destroy();
  }
  if (r.status !== 200) throw new EnrollmentError(`enrollment refused (${r.status}): ${String(r.json.error ?? 'no reason given')}`);
  const cert = String(r.json.certificate ?? '');
  const ca = String(r.json.ca ?? '');
  if (fingerprint(new x509.X509Certificate(ca)) !== seen) throw new EnrollmentError('enrollment answer names a different CA than the server presented; not storing it');
  const credentials = saveCredentials(o.stateDir, { key: keyPem, cert, ca });
  return { credentials, caFingerprint: seen, pinned: want === null ? 'first-contact' : 'given' };
}

/** Renews over mTLS with a new key; stores and returns the new credentials. */
export async function renew(workerUrl: string, stateDir: string, current: WorkerCredentials): Promise<WorkerCredentials> {
  const { keyPem, csrPem } = await createCsr(current.workerId);
  const r = await postJson(new URL('/v1/renew', httpsUrl(workerUrl)), { csr: csrPem }, { ca: current.ca, key: current.key, cert: current.cert });
  if (r.status !== 200) throw new EnrollmentError(`renewal refused (${r.status}): ${String(r.json.error ?? 'no reason given')}`);
  return saveCredentials(stateDir, { key: keyPem, cert: String(r.json.certificate ?? ''), ca: current.ca });
}
