/** SQLite implementation of PkiStore (tables of the "pki" component; see migrations/pki.ts). */
import type {
  EnrollmentTokenRecord,
  PkiCaRecord,
  PkiStore,
  TokenConsumeOutcome,
  WorkerAuthRecord,
  WorkerCertRecord,
} from '../pki.js';
import { migrate, type SqliteDb } from './db.js';
import { PKI_MIGRATIONS } from './migrations/pki.js';

export class SqlitePkiStore implements PkiStore {
  constructor(private readonly db: SqliteDb) {
    migrate(db, 'pki', PKI_MIGRATIONS);
  }

  getCa(): Promise<PkiCaRecord | null> {
    const r = this.db.prepare('SELECT cert_pem, key_sealed, fingerprint, created_at FROM pki_ca WHERE id = 1').get() as PkiCaRecord | undefined;
    return Promise.resolve(r ?? null);
  }

  async putCaIfAbsent(ca: PkiCaRecord): Promise<PkiCaRecord> {
    this.db
      .prepare('INSERT INTO pki_ca (id, cert_pem, key_sealed, fingerprint, created_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING')
      .run(ca.cert_pem, ca.key_sealed, ca.fingerprint, ca.created_at);
    return (await this.getCa())!;
  }

  createToken(t: EnrollmentTokenRecord): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO enrollment_tokens (id, secret_hash, region, uses_total, uses_left, expires_at, created_at, description) VALUES (@id, @secret_hash, @region, @uses_total, @uses_left, @expires_at, @created_at, @description)',
      )
      .run(t);
    return Promise.resolve();
  }

  listTokens(): Promise<EnrollmentTokenRecord[]> {
    return Promise.resolve(this.db.prepare('SELECT * FROM enrollment_tokens ORDER BY created_at').all() as EnrollmentTokenRecord[]);
  }

  consumeToken(id: string, secretHash: string, now: number): Promise<TokenConsumeOutcome> {
    const run = this.db.transaction((): TokenConsumeOutcome => {
      const t = this.db.prepare('SELECT * FROM enrollment_tokens WHERE id = ?').get(id) as EnrollmentTokenRecord | undefined;
      if (!t) return { ok: false, reason: 'unknown' };
      if (t.secret_hash !== secretHash) return { ok: false, reason: 'wrong' };
      if (t.expires_at <= now) return { ok: false, reason: 'expired' };
      if (t.uses_left <= 0) return { ok: false, reason: 'used' };
      this.db.prepare('UPDATE enrollment_tokens SET uses_left = uses_left - 1 WHERE id = ?').run(id);
      return { ok: true, token: { ...t, uses_left: t.uses_left - 1 } };
    });
    return Promise.resolve(run.immediate());
  }

  deleteToken(id: string): Promise<boolean> {
    return Promise.resolve(this.db.prepare('DELETE FROM enrollment_tokens WHERE id = ?').run(id).changes > 0);
  }

  recordCert(c: WorkerCertRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO worker_certs (serial, worker_id, region, hostname, not_before, not_after, issued_at, via, revoked_at, revoked_reason, superseded_at)
         VALUES (@serial, @worker_id, @region, @hostname, @not_before, @not_after, @issued_at, @via, @revoked_at, @revoked_reason, @superseded_at)`,
      )
      .run(c);
    return Promise.resolve();
  }

  getCert(serial: string): Promise<WorkerCertRecord | null> {
    return Promise.resolve((this.db.prepare('SELECT * FROM worker_certs WHERE serial = ?').get(serial) as WorkerCertRecord | undefined) ?? null);
  }

  latestCerts(): Promise<WorkerCertRecord[]> {
    return Promise.resolve(
      this.db
        .prepare(
          `SELECT c.* FROM worker_certs c
           WHERE c.serial = (SELECT serial FROM worker_certs d WHERE d.worker_id = c.worker_id ORDER BY issued_at DESC, serial DESC LIMIT 1)
           ORDER BY c.worker_id`,
        )
        .all() as WorkerCertRecord[],
    );
  }

  supersedeOlder(workerId: string, serial: string, now: number): Promise<number> {
    const r = this.db
      .prepare(
        `UPDATE worker_certs SET superseded_at = ?
         WHERE worker_id = ? AND superseded_at IS NULL AND serial <> ?
           AND issued_at < (SELECT issued_at FROM worker_certs WHERE serial = ?)`,
      )
      .run(now, workerId, serial, serial);
    return Promise.resolve(r.changes);
  }

  revokeWorkerCerts(workerId: string, reason: string, now: number): Promise<number> {
    const r = this.db
      .prepare('UPDATE worker_certs SET revoked_at = ?, revoked_reason = ? WHERE worker_id = ? AND revoked_at IS NULL')
      .run(now, reason, workerId);
    return Promise.resolve(r.changes);
  }

  invalidSerials(serials: readonly string[]): Promise<string[]> {
    if (serials.length === 0) return Promise.resolve([]);
    const out: string[] = [];
    const stmt = this.db.prepare('SELECT serial FROM worker_certs WHERE serial = ? AND (revoked_at IS NOT NULL OR superseded_at IS NOT NULL)');
    for (const s of serials) if (stmt.get(s)) out.push(s);
    return Promise.resolve(out);
  }

  recordAuth(a: WorkerAuthRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO worker_auth (worker_id, via, at) VALUES (?, ?, ?) ON CONFLICT(worker_id) DO UPDATE SET via = excluded.via, at = excluded.at')
      .run(a.worker_id, a.via, a.at);
    return Promise.resolve();
  }

  listAuth(): Promise<WorkerAuthRecord[]> {
    return Promise.resolve(this.db.prepare('SELECT worker_id, via, at FROM worker_auth ORDER BY worker_id').all() as WorkerAuthRecord[]);
  }
}
