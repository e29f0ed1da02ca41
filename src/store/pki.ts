/**
 * The PKI store (component "pki"): the worker CA, enrollment tokens (hashes only), the certificates issued to
 * workers with their revocation and supersession, and how each worker last authenticated.
 * SQLite: src/store/sqlite/pki.ts; PostgreSQL: src/store/postgres/pki.ts; contract: test/store/contract/pki.ts.
 */

/** The CA as the database holds it: the certificate, and (PostgreSQL) the private key sealed with `pki_seal_key`. */
export interface PkiCaRecord {
  cert_pem: string;
  /** AES-256-GCM sealed PKCS#8 key (base64 JSON, see src/pki/seal.ts); null when the key lives in a file. */
  key_sealed: string | null;
  /** sha256 of the certificate's DER, hex. */
  fingerprint: string;
  created_at: number;
}

export interface EnrollmentTokenRecord {
  id: string;
  /** sha256 of the token's secret part, hex; the secret itself is never stored. */
  secret_hash: string;
  region: string;
  uses_total: number;
  uses_left: number;
  expires_at: number;
  created_at: number;
  description: string;
}

export type TokenRefusal = 'unknown' | 'wrong' | 'expired' | 'used';

export type TokenConsumeOutcome = { ok: true; token: EnrollmentTokenRecord } | { ok: false; reason: TokenRefusal };

export interface WorkerCertRecord {
  /** hex, upper case (what Node's getPeerCertificate().serialNumber reports) */
  serial: string;
  worker_id: string;
  region: string;
  hostname: string;
  not_before: number;
  not_after: number;
  issued_at: number;
  /** how the certificate was obtained */
  via: 'token' | 'renewal' | 'local';
  revoked_at: number | null;
  revoked_reason: string | null;
  /** set once the worker used a newer certificate: this one is refused from then on */
  superseded_at: number | null;
}

export type WorkerAuthMethod = 'mtls' | 'cluster_token' | 'server_key' | 'open';

export interface WorkerAuthRecord {
  worker_id: string;
  via: WorkerAuthMethod;
  at: number;
}

export interface PkiStore {
  getCa(): Promise<PkiCaRecord | null>;
  /** Stores `ca` unless a CA is stored already; returns the stored one (the first writer wins a race). */
  putCaIfAbsent(ca: PkiCaRecord): Promise<PkiCaRecord>;

  createToken(t: EnrollmentTokenRecord): Promise<void>;
  listTokens(): Promise<EnrollmentTokenRecord[]>;
  /** Atomically checks the token (known, secret hash, not expired, a use left) and takes one use. */
  consumeToken(id: string, secretHash: string, now: number): Promise<TokenConsumeOutcome>;
  deleteToken(id: string): Promise<boolean>;

  recordCert(c: WorkerCertRecord): Promise<void>;
  getCert(serial: string): Promise<WorkerCertRecord | null>;
  /** Every worker's newest certificate. */
  latestCerts(): Promise<WorkerCertRecord[]>;
  /** Marks the worker's certificates issued before `serial`'s superseded; returns how many changed. */
  supersedeOlder(workerId: string, serial: string, now: number): Promise<number>;
  /** Revokes every certificate of the worker; returns how many were not revoked before. */
  revokeWorkerCerts(workerId: string, reason: string, now: number): Promise<number>;
  /** Of `serials`, the ones revoked or superseded (the periodic check of open streams). */
  invalidSerials(serials: readonly string[]): Promise<string[]>;

  recordAuth(a: WorkerAuthRecord): Promise<void>;
  listAuth(): Promise<WorkerAuthRecord[]>;
}
