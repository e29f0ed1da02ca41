/**
 * Deciding at server start which CA is used and how workers authenticate (config `worker_auth`).
 *
 * SQLite (one server): the CA files (pki_ca_cert_file / pki_ca_key_file, default ~/.vantage or /var/lib/vantage)
 * are loaded, or created on first start; the certificate is also recorded in the database.
 * PostgreSQL (replicas): the CA certificate lives in the database. Its key is sealed in the database with
 * `pki_seal_key` (the chosen default: replicas share one config secret and no files, and the first replica's
 * CA wins atomically), or read from pki_ca_key_file on every replica. A replica with neither never makes a CA
 * of its own: PKI stays off (an error is logged, and worker_auth: mtls/both refuse to start).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { PkiStore } from '../store/pki.js';
import type { WorkerAuthMode } from '../api/worker/server.js';
import { PkiAuthority } from './authority.js';
import { type Ca, caFromPem, createCa, defaultCaPaths, loadCaFiles, PkiError, writeCaFilesOnce } from './ca.js';
import { serverNames } from './issue.js';
import { workerApiServerCert } from './server-cert.js';
import { seal, unseal } from './seal.js';

export interface PkiConfig {
  worker_auth: 'auto' | 'mtls' | 'both' | 'token' | 'none';
  pki_ca_cert_file: string;
  pki_ca_key_file: string;
  pki_seal_key: string;
  worker_cert_days: number;
  pki_server_names: string[];
  pki_revocation_check_seconds: number;
  cluster_token: string;
  server_key: string;
}

export interface ResolvedPki {
  mode: WorkerAuthMode;
  authority: PkiAuthority | null;
  server: { certPem: string; keyPem: string } | null;
  /** One line for the startup log. */
  summary: string;
  /**
   * With PKI: re-checks the worker API certificate at `now` and returns a new pair when it was re-issued
   * (stored in the state dir), null while the current one is still good.
   */
  refreshServerCert?: (now: number) => Promise<{ certPem: string; keyPem: string } | null>;
}

function caPaths(cfg: PkiConfig): { certFile: string; keyFile: string } {
  if (cfg.pki_ca_cert_file === '' && cfg.pki_ca_key_file === '') return defaultCaPaths();
  const certFile = cfg.pki_ca_cert_file || defaultCaPaths().certFile;
  return { certFile, keyFile: cfg.pki_ca_key_file || join(dirname(certFile), 'ca-key.pem') };
}

/** SQLite: the CA files, created when both are missing; a concurrent first start on the same paths loads the winner's files. */
async function singleServerCa(cfg: PkiConfig, store: PkiStore, now: number, log: Logger): Promise<Ca> {
  const { certFile, keyFile } = caPaths(cfg);
  let ca: Ca;
  if (existsSync(certFile) || existsSync(keyFile)) {
    if (!existsSync(certFile) || !existsSync(keyFile)) {
      throw new PkiError(
        `pki_ca_cert_file/pki_ca_key_file: ${existsSync(certFile) ? certFile : keyFile} exists but ${existsSync(certFile) ? keyFile : certFile} does not; restore it, or remove both to make a new CA (every worker must then enroll again)`,
      );
    }
    ca = await loadCaFiles(certFile, keyFile);
  } else {
    const stored = await store.getCa();
    if (stored) {
      throw new PkiError(`pki_ca_cert_file: ${certFile} is missing, but this database was used with the CA sha256:${stored.fingerprint}; restore the CA files (or point pki_ca_cert_file/pki_ca_key_file at them)`);
    }
    const written = await writeCaFilesOnce(await createCa(now), certFile, keyFile);
    ca = written.ca;
    if (written.created) log.info({ certFile, keyFile, fingerprint: `sha256:${ca.fingerprint}` }, 'worker CA created');
  }
  const stored = await store.putCaIfAbsent({ cert_pem: ca.certPem, key_sealed: null, fingerprint: ca.fingerprint, created_at: now });
  if (stored.fingerprint !== ca.fingerprint) {
    throw new PkiError(`pki_ca_cert_file: ${certFile} is the CA sha256:${ca.fingerprint}, but this database was used with sha256:${stored.fingerprint}`);
  }
  return ca;
}

/**
 * PostgreSQL: the database's CA with its sealed key or a key file; `missing` (why) when this replica has no way
 * to the key: it then never makes a CA of its own.
 */
async function replicatedCa(cfg: PkiConfig, store: PkiStore, now: number, log: Logger): Promise<Ca | { missing: string }> {
  const stored = await store.getCa();
  const keyFile = cfg.pki_ca_key_file;
  if (stored) {
    if (stored.key_sealed !== null && cfg.pki_seal_key !== '') {
      return caFromPem(stored.cert_pem, unseal(stored.key_sealed, cfg.pki_seal_key), { cert: 'the database CA', key: 'the sealed CA key' });
    }
    if (keyFile !== '') {
      const certText = stored.cert_pem;
      const fromFile = await loadCaFiles(cfg.pki_ca_cert_file || keyFile.replace(/-key\.pem$/, '.pem'), keyFile).catch(async (e: unknown) => {
        if (!(e instanceof PkiError) || !/pki_ca_cert_file/.test(e.message)) throw e;
        const { readFileSync } = await import('node:fs');
        return caFromPem(certText, readFileSync(keyFile, 'utf8'), { cert: 'the database CA', key: `pki_ca_key_file ${keyFile}` });
      });
      if (fromFile.fingerprint !== stored.fingerprint) throw new PkiError(`pki_ca_key_file: ${keyFile} is not the key of the database's CA sha256:${stored.fingerprint}`);
      return fromFile;
    }
    return {
      missing:
        stored.key_sealed !== null
          ? `pki_seal_key: the database holds the worker CA sha256:${stored.fingerprint} with its key sealed, and this replica has no pki_seal_key to open it (set the same value as the other replicas)`
          : `pki_ca_key_file: the database holds the worker CA sha256:${stored.fingerprint} and its key is kept in a file; set pki_ca_cert_file and pki_ca_key_file on this replica`,
    };
  }
  if (cfg.pki_ca_cert_file !== '' && keyFile !== '') {
    const ca = await loadCaFiles(cfg.pki_ca_cert_file, keyFile);
    const won = await store.putCaIfAbsent({ cert_pem: ca.certPem, key_sealed: cfg.pki_seal_key ? seal(ca.keyPem, cfg.pki_seal_key) : null, fingerprint: ca.fingerprint, created_at: now });
    if (won.fingerprint !== ca.fingerprint) throw new PkiError(`pki_ca_cert_file: another replica stored the CA sha256:${won.fingerprint} first`);
    return ca;
  }
  if (cfg.pki_seal_key !== '') {
    const mine = await createCa(now);
    const won = await store.putCaIfAbsent({ cert_pem: mine.certPem, key_sealed: seal(mine.keyPem, cfg.pki_seal_key), fingerprint: mine.fingerprint, created_at: now });
    if (won.fingerprint === mine.fingerprint) {
      log.info({ fingerprint: `sha256:${mine.fingerprint}` }, 'worker CA created and stored in the database (key sealed with pki_seal_key)');
      return mine;
    }
    // Another replica stored its CA first: use that one.
    if (won.key_sealed === null) return { missing: `pki_ca_key_file: another replica stored the worker CA sha256:${won.fingerprint} with its key in a file; set pki_ca_cert_file and pki_ca_key_file on this replica` };
    return caFromPem(won.cert_pem, unseal(won.key_sealed, cfg.pki_seal_key), { cert: 'the database CA', key: 'the sealed CA key' });
  }
  return { missing: 'pki_seal_key: with PostgreSQL set pki_seal_key (the same on every replica) or pki_ca_cert_file + pki_ca_key_file' };
}

/**
 * `o.stateDir`: where the worker API certificate is kept (`<state_dir>/worker-tls/`) so a restart serves the
 * same one; null keeps it in memory (made at every start).
 */
export async function resolvePki(cfg: PkiConfig, store: PkiStore | undefined, engine: 'sqlite' | 'postgres', o: { now: number; logger: Logger; stateDir?: string | null }): Promise<ResolvedPki> {
  const tokens = cfg.cluster_token !== '' || cfg.server_key !== '';
  const wanted = cfg.worker_auth;
  let ca: Ca | null = null;
  let missing = '';
  // auto with a shared token configured stays in token mode, so no CA is loaded or created for it.
  if (store && ((wanted === 'auto' && !tokens) || wanted === 'mtls' || wanted === 'both')) {
    const found = engine === 'sqlite' ? await singleServerCa(cfg, store, o.now, o.logger) : await replicatedCa(cfg, store, o.now, o.logger);
    if ('missing' in found) missing = found.missing;
    else ca = found;
  }
  if ((wanted === 'mtls' || wanted === 'both') && ca === null) {
    throw new PkiError(`worker_auth: ${wanted} needs the worker CA: ${missing || 'no worker CA is available'}`);
  }
  if (missing !== '') {
    o.logger.error({ reason: missing }, `worker PKI is off (no replica makes a CA of its own; only loopback workers are accepted): ${missing}`);
  }
  if (wanted === 'token' && !tokens) throw new PkiError('worker_auth: token needs cluster_token or server_key');
  let mode: WorkerAuthMode;
  // auto: mTLS when no shared token is configured; a configured token keeps the token mode it had before PKI
  // (set worker_auth: both to migrate, mtls to finish). See docs/workers.md.
  if (wanted === 'auto') mode = tokens ? 'token' : ca ? 'mtls' : 'loopback';
  else mode = wanted === 'none' ? 'none' : wanted;
  const authority = ca && (mode === 'mtls' || mode === 'both') ? new PkiAuthority(ca, store!, { certDays: cfg.worker_cert_days, now: Date.now }) : null;
  let server: ResolvedPki['server'] = null;
  let refreshServerCert: ResolvedPki['refreshServerCert'];
  if (authority) {
    const names = serverNames(cfg.pki_server_names);
    const stateDir = o.stateDir ?? null;
    let current: { certPem: string; keyPem: string } | null = null;
    const obtain = async (now: number): Promise<{ certPem: string; keyPem: string } | null> => {
      // In memory only (no state dir), the pair served now is the one to judge; with one, the stored files are.
      const got = await workerApiServerCert({ ca: authority.ca, names, now, stateDir, current });
      if (got.writeError) o.logger.warn({ err: got.writeError }, 'worker API certificate issued but not stored (it is made again at the next start)');
      else if (got.issued !== false) o.logger.info({ file: got.stored, reason: got.issued }, 'worker API certificate issued by the worker CA');
      const changed = current === null || got.certPem !== current.certPem;
      current = { certPem: got.certPem, keyPem: got.keyPem };
      return changed ? current : null;
    };
    server = await obtain(o.now);
    refreshServerCert = obtain;
  }
  const summary = {
    mtls: 'workers authenticate with client certificates from the worker CA (mTLS)',
    both: 'workers authenticate with client certificates (mTLS) or the shared cluster_token/server_key (weaker: one secret, never expires; move workers to enrollment and set worker_auth: mtls)',
    token: 'workers authenticate with the shared cluster_token/server_key only (weaker than mTLS: one secret that never expires)',
    none: 'worker API accepts ANY client as a worker (worker_auth: none)',
    loopback: 'no worker authentication is available: only workers on this machine (loopback) are accepted',
  }[mode];
  return { mode, authority, server, summary, refreshServerCert };
}
