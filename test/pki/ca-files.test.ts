/**
 * CA files created by servers starting at the same moment on the same paths (two servers on one host with the
 * default ~/.vantage, or parallel test servers): exactly one CA ends on disk and every server uses it, so a
 * later restart does not find files that disagree with the CA its database recorded.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateCaFiles } from '../../src/pki/ca.js';
import { resolvePki, type PkiConfig } from '../../src/pki/bootstrap.js';
import { openSqliteStore } from '../../src/store/index.js';
import { fingerprint, x509 } from '../../src/pki/x509.js';

const dirs: string[] = [];
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vantage-cafiles-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('CA files created concurrently', () => {
  it('six concurrent first starts: one CA is created, all six load it, no temporary file is left', async () => {
    const dir = temp();
    const certFile = join(dir, 'pki', 'ca.pem');
    const keyFile = join(dir, 'pki', 'ca-key.pem');
    const got = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateCaFiles(certFile, keyFile, Date.now())));
    expect(got.filter((g) => g.created)).toHaveLength(1);
    const onDisk = fingerprint(new x509.X509Certificate(readFileSync(certFile, 'utf8')));
    for (const g of got) expect(g.ca.fingerprint).toBe(onDisk);
    expect(readdirSync(join(dir, 'pki')).sort()).toEqual(['ca-key.pem', 'ca.pem']);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(certFile).mode & 0o777).toBe(0o644);
  });

  it('two servers (two SQLite databases, the same CA paths) starting together use the same CA, and both restart', async () => {
    const dir = temp();
    const cfg: PkiConfig = {
      worker_auth: 'mtls',
      pki_ca_cert_file: join(dir, 'shared', 'ca.pem'),
      pki_ca_key_file: join(dir, 'shared', 'ca-key.pem'),
      pki_seal_key: '',
      worker_cert_days: 30,
      pki_server_names: [],
      pki_revocation_check_seconds: 5,
      cluster_token: '',
      server_key: '',
    };
    const stores = [openSqliteStore(join(dir, 'a.db')), openSqliteStore(join(dir, 'b.db'))];
    try {
      const logger = pino({ level: 'silent' });
      const start = () => Promise.all(stores.map((s) => resolvePki(cfg, s.pki, 'sqlite', { now: Date.now(), logger })));
      const first = await start();
      expect(first[0]!.authority!.caFingerprint).toBe(first[1]!.authority!.caFingerprint);
      // A restart loads the files and checks them against each database's recorded CA: both agree.
      const again = await start();
      for (const r of again) expect(r.authority!.caFingerprint).toBe(first[0]!.authority!.caFingerprint);
    } finally {
      for (const s of stores) await s.close();
    }
  });
});
