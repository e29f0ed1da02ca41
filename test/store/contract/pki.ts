/** Contract scenarios of PkiStore: one CA (first writer wins), token use counting, certificates, supersession, revocation. */
import { describe, expect, it } from 'vitest';
import type { ContractContext } from './index.js';
import type { WorkerCertRecord } from '../../../src/store/pki.js';

const cert = (serial: string, workerId: string, issuedAt: number): WorkerCertRecord => ({
  serial,
  worker_id: workerId,
  region: 'global',
  hostname: 'h',
  not_before: issuedAt,
  not_after: issuedAt + 1000,
  issued_at: issuedAt,
  via: 'token',
  revoked_at: null,
  revoked_reason: null,
  superseded_at: null,
});

export function pkiScenarios(ctx: ContractContext): void {
  describe('pki', () => {
    it('keeps the first CA stored; a second put returns the first', async () => {
      const pki = ctx.stores().pki;
      expect(await pki.getCa()).toBeNull();
      const a = { cert_pem: 'A', key_sealed: 'sealed', fingerprint: 'fa', created_at: 1 };
      const [r1, r2] = await Promise.all([pki.putCaIfAbsent(a), pki.putCaIfAbsent({ ...a, cert_pem: 'B', fingerprint: 'fb' })]);
      expect(r1.fingerprint).toBe(r2.fingerprint);
      expect((await pki.getCa())!.fingerprint).toBe(r1.fingerprint);
    });

    it('a token is taken once per use, concurrently; wrong, expired and unknown are told apart', async () => {
      const pki = ctx.stores().pki;
      await pki.createToken({ id: 't1', secret_hash: 'h', region: 'global', uses_total: 2, uses_left: 2, expires_at: 1000, created_at: 0, description: '' });
      const rs = await Promise.all(Array.from({ length: 5 }, () => pki.consumeToken('t1', 'h', 10)));
      expect(rs.filter((r) => r.ok)).toHaveLength(2);
      expect(rs.filter((r) => !r.ok && r.reason === 'used')).toHaveLength(3);
      expect(await pki.consumeToken('t1', 'x', 10)).toEqual({ ok: false, reason: 'wrong' });
      expect(await pki.consumeToken('nope', 'h', 10)).toEqual({ ok: false, reason: 'unknown' });
      await pki.createToken({ id: 't2', secret_hash: 'h', region: 'eu', uses_total: 1, uses_left: 1, expires_at: 5, created_at: 0, description: 'd' });
      expect(await pki.consumeToken('t2', 'h', 5)).toEqual({ ok: false, reason: 'expired' });
      expect((await pki.listTokens()).map((t) => [t.id, t.uses_left])).toEqual([['t1', 0], ['t2', 1]]);
      expect(await pki.deleteToken('t2')).toBe(true);
    });

    it('certificates: newest per worker, supersession of older ones, revocation, invalid serials', async () => {
      const pki = ctx.stores().pki;
      await pki.recordCert(cert('A1', 'w1', 100));
      await pki.recordCert(cert('A2', 'w1', 200));
      await pki.recordCert(cert('B1', 'w2', 150));
      expect((await pki.latestCerts()).map((c) => c.serial)).toEqual(['A2', 'B1']);
      expect(await pki.supersedeOlder('w1', 'A2', 300)).toBe(1);
      expect((await pki.getCert('A1'))!.superseded_at).toBe(300);
      expect((await pki.getCert('A2'))!.superseded_at).toBeNull();
      expect(await pki.revokeWorkerCerts('w2', 'gone', 400)).toBe(1);
      expect(await pki.revokeWorkerCerts('w2', 'gone', 401)).toBe(0);
      expect((await pki.invalidSerials(['A1', 'A2', 'B1', 'zz'])).sort()).toEqual(['A1', 'B1']);
      expect(await pki.invalidSerials([])).toEqual([]);
      await pki.recordAuth({ worker_id: 'w1', via: 'cluster_token', at: 1 });
      await pki.recordAuth({ worker_id: 'w1', via: 'mtls', at: 2 });
      expect(await pki.listAuth()).toEqual([{ worker_id: 'w1', via: 'mtls', at: 2 }]);
    });
  });
}
