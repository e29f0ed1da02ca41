/** PostgreSQL implementation of PkiStore (tables of the "pki" component; see migrations/pki.ts). */
import type pg from 'pg';
import type {
  EnrollmentTokenRecord,
  PkiCaRecord,
  PkiStore,
  TokenConsumeOutcome,
  WorkerAuthRecord,
  WorkerCertRecord,
} from '../pki.js';
import { migrate } from './db.js';
import { PG_PKI_MIGRATIONS } from './migrations/pki.js';

export class PgPkiStore implements PkiStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Runs the "pki" migrations (once across replicas) and returns the store. */
  static async open(pool: pg.Pool): Promise<PgPkiStore> {
    await migrate(pool, 'pki', PG_PKI_MIGRATIONS);
    return new PgPkiStore(pool);
  }

  async getCa(): Promise<PkiCaRecord | null> {
    const { rows } = await this.pool.query<PkiCaRecord>('SELECT cert_pem, key_sealed, fingerprint, created_at FROM pki_ca WHERE id = 1');
    return rows[0] ?? null;
  }

  async putCaIfAbsent(ca: PkiCaRecord): Promise<PkiCaRecord> {
    await this.pool.query(
      'INSERT INTO pki_ca (id, cert_pem, key_sealed, fingerprint, created_at) VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
      [ca.cert_pem, ca.key_sealed, ca.fingerprint, ca.created_at],
    );
    return (await this.getCa())!;
  }

  async createToken(t: EnrollmentTokenRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO enrollment_tokens (id, secret_hash, region, uses_total, uses_left, expires_at, created_at, description) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [t.id, t.secret_hash, t.region, t.uses_total, t.uses_left, t.expires_at, t.created_at, t.description],
    );
  }

  async listTokens(): Promise<EnrollmentTokenRecord[]> {
    return (await this.pool.query<EnrollmentTokenRecord>('SELECT * FROM enrollment_tokens ORDER BY created_at')).rows;
  }

  async consumeToken(id: string, secretHash: string, now: number): Promise<TokenConsumeOutcome> {
    // One statement takes the use, so two replicas enrolling with the last use cannot both succeed.
    const taken = await this.pool.query<EnrollmentTokenRecord>(
      `UPDATE enrollment_tokens SET uses_left = uses_left - 1
       WHERE id = $1 AND secret_hash = $2 AND expires_at > $3 AND uses_left > 0 RETURNING *`,
      [id, secretHash, now],
    );
    if (taken.rows[0]) return { ok: true, token: taken.rows[0] };
    const { rows } = await this.pool.query<EnrollmentTokenRecord>('SELECT * FROM enrollment_tokens WHERE id = $1', [id]);
    const t = rows[0];
    if (!t) return { ok: false, reason: 'unknown' };
    if (t.secret_hash !== secretHash) return { ok: false, reason: 'wrong' };
    if (t.expires_at <= now) return { ok: false, reason: 'expired' };
    return { ok: false, reason: 'used' };
  }

  async deleteToken(id: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM enrollment_tokens WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async recordCert(c: WorkerCertRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO worker_certs (serial, worker_id, region, hostname, not_before, not_after, issued_at, via, revoked_at, revoked_reason, superseded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [c.serial, c.worker_id, c.region, c.hostname, c.not_before, c.not_after, c.issued_at, c.via, c.revoked_at, c.revoked_reason, c.superseded_at],
    );
  }

  async getCert(serial: string): Promise<WorkerCertRecord | null> {
    return (await this.pool.query<WorkerCertRecord>('SELECT * FROM worker_certs WHERE serial = $1', [serial])).rows[0] ?? null;
  }

  async latestCerts(): Promise<WorkerCertRecord[]> {
    return (
      await this.pool.query<WorkerCertRecord>(
        'SELECT DISTINCT ON (worker_id) * FROM worker_certs ORDER BY worker_id, issued_at DESC, serial DESC',
      )
    ).rows;
  }

  async supersedeOlder(workerId: string, serial: string, now: number): Promise<number> {
    const r = await this.pool.query(
      `UPDATE worker_certs SET superseded_at = $1
       WHERE worker_id = $2 AND superseded_at IS NULL AND serial <> $3
         AND issued_at < (SELECT issued_at FROM worker_certs WHERE serial = $3)`,
      [now, workerId, serial],
    );
    return r.rowCount ?? 0;
  }

  async revokeWorkerCerts(workerId: string, reason: string, now: number): Promise<number> {
    const r = await this.pool.query(
      'UPDATE worker_certs SET revoked_at = $1, revoked_reason = $2 WHERE worker_id = $3 AND revoked_at IS NULL',
      [now, reason, workerId],
    );
    return r.rowCount ?? 0;
  }

  async invalidSerials(serials: readonly string[]): Promise<string[]> {
    if (serials.length === 0) return [];
    const { rows } = await this.pool.query<{ serial: string }>(
      'SELECT serial FROM worker_certs WHERE serial = ANY($1::text[]) AND (revoked_at IS NOT NULL OR superseded_at IS NOT NULL)',
      [serials],
    );
    return rows.map((r) => r.serial);
  }

  async recordAuth(a: WorkerAuthRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO worker_auth (worker_id, via, at) VALUES ($1, $2, $3) ON CONFLICT (worker_id) DO UPDATE SET via = excluded.via, at = excluded.at',
      [a.worker_id, a.via, a.at],
    );
  }

  async listAuth(): Promise<WorkerAuthRecord[]> {
    return (await this.pool.query<WorkerAuthRecord>('SELECT worker_id, via, at FROM worker_auth ORDER BY worker_id')).rows;
  }
}
