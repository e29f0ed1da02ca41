/**
 * The PKI manager a server runs: the CA (resolved by resolveCa), enrollment with one-time tokens, renewal over
 * an authenticated channel, and the checks made on every worker connection (certificate known, not revoked,
 * not superseded). I/O is the PkiStore; the clock is injected.
 */
import { z } from 'zod';
import type { PkiStore, WorkerCertRecord } from '../store/pki.js';
import type { Ca } from './ca.js';
import { PkiError } from './ca.js';
import { issueWorkerCert, parseCsr } from './issue.js';
import { newToken, parseToken } from './tokens.js';
import { newWorkerId } from '../platform/ids.js';

const REGION_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** POST /v1/enroll body. */
export const EnrollRequestSchema = z
  .object({
    token: z.string({ error: 'expected the enrollment token (a string)' }).min(1, { error: 'expected the enrollment token' }).max(200),
    csr: z.string({ error: 'expected a PEM CSR (a string)' }).min(1).max(20_000),
    region: z.string().regex(REGION_RE, { error: 'expected a region name of lowercase letters, digits, ".", "_" or "-"' }).default('global'),
    hostname: z.string().max(255).default(''),
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

/** POST /v1/renew body (the caller is identified by its client certificate). */
export const RenewRequestSchema = z.object({ csr: z.string({ error: 'expected a PEM CSR (a string)' }).min(1).max(20_000) }).strict();
export type RenewRequest = z.infer<typeof RenewRequestSchema>;

export interface IssuedResponse {
  worker_id: string;
  region: string;
  certificate: string;
  ca: string;
  not_after: number;
}

export class EnrollError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 401 | 403,
  ) {
    super(message);
  }
}

const TOKEN_MESSAGES = {
  unknown: 'enrollment token unknown',
  wrong: 'enrollment token wrong',
  expired: 'enrollment token expired',
  used: 'enrollment token already used',
} as const;

/** What a verified client certificate says (from getPeerCertificate). */
export interface PeerCert {
  workerId: string;
  region: string;
  serial: string;
}

export type CertCheck = { ok: true; cert: WorkerCertRecord } | { ok: false; reason: string };

export class PkiAuthority {
  constructor(
    readonly ca: Ca,
    private readonly store: PkiStore,
    private readonly o: { certDays: number; now: () => number },
  ) {}

  get caFingerprint(): string {
    return this.ca.fingerprint;
  }

  async createToken(t: { region: string; ttlMs: number; uses: number; description?: string }): Promise<string> {
    const { token, record } = newToken({ ...t, now: this.o.now() });
    await this.store.createToken(record);
    return token;
  }

  async enroll(req: EnrollRequest): Promise<IssuedResponse> {
    const parsed = parseToken(req.token);
    if (!parsed) throw new EnrollError('token: expected an enrollment token "vet_<id>.<secret>" (from `vantage worker token create`)', 401);
    const csr = await parseCsr(req.csr).catch((e: unknown) => {
      throw new EnrollError((e as Error).message, 400);
    });
    const token = await this.store.consumeToken(parsed.id, parsed.secretHash, this.o.now());
    if (!token.ok) throw new EnrollError(TOKEN_MESSAGES[token.reason], 401);
    if (token.token.region !== req.region) {
      throw new EnrollError(`enrollment token is for region "${token.token.region}", not "${req.region}"`, 403);
    }
    return this.issue(csr, newWorkerId(), req.region, req.hostname, 'token');
  }

  /** A new certificate for the worker `peer` names, for a new key; the old certificate is superseded once the new one is used. */
  async renew(peer: PeerCert, req: RenewRequest): Promise<IssuedResponse> {
    const csr = await parseCsr(req.csr).catch((e: unknown) => {
      throw new EnrollError((e as Error).message, 400);
    });
    const current = await this.store.getCert(peer.serial);
    return this.issue(csr, peer.workerId, peer.region, current?.hostname ?? '', 'renewal');
  }

  private async issue(csr: Awaited<ReturnType<typeof parseCsr>>, workerId: string, region: string, hostname: string, via: WorkerCertRecord['via']): Promise<IssuedResponse> {
    const now = this.o.now();
    const issued = await issueWorkerCert(this.ca, csr, { workerId, region, now, days: this.o.certDays });
    await this.store.recordCert({
      serial: issued.serial,
      worker_id: workerId,
      region,
      hostname: hostname.slice(0, 255),
      not_before: issued.notBefore,
      not_after: issued.notAfter,
      issued_at: now,
      via,
      revoked_at: null,
      revoked_reason: null,
      superseded_at: null,
    });
    return { worker_id: workerId, region, certificate: issued.pem, ca: this.ca.certPem, not_after: issued.notAfter };
  }

  /**
   * The check made on every connection with a CA-verified certificate: the certificate must be one this CA
   * recorded, for the worker it names, neither revoked nor superseded. Using it supersedes the worker's older ones.
   */
  async checkCert(peer: PeerCert): Promise<CertCheck> {
    const c = await this.store.getCert(peer.serial);
    if (!c || c.worker_id !== peer.workerId) return { ok: false, reason: 'client certificate unknown to this CA' };
    if (c.revoked_at !== null) return { ok: false, reason: `client certificate revoked${c.revoked_reason ? `: ${c.revoked_reason}` : ''}` };
    if (c.superseded_at !== null) return { ok: false, reason: 'client certificate replaced by a renewed one' };
    await this.store.supersedeOlder(peer.workerId, peer.serial, this.o.now());
    return { ok: true, cert: c };
  }

  invalidSerials(serials: readonly string[]): Promise<string[]> {
    return this.store.invalidSerials(serials);
  }
}

/** Parses "1h", "30m", "2d", "90s" into ms; throws naming `--ttl`. */
export function parseTtl(v: string): number {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(v.trim());
  if (!m) throw new PkiError(`--ttl: expected a duration such as 30m, 1h or 7d, got "${v}"`);
  const n = Number(m[1]);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (n <= 0) throw new PkiError(`--ttl: expected a positive duration, got "${v}"`);
  return n * unit;
}
