/**
 * `vantage worker token create|list`, `vantage worker list|revoke`: run where the server's database is (they
 * open the database named in server.yml, so only someone with access to it can make tokens or revoke), and
 * `vantage agent enroll`.
 */
import type { Command } from 'commander';
import { loadServerConfig } from '../config/load.js';
import { openStore, type OpenedStore } from '../store/index.js';
import { newToken } from '../pki/tokens.js';
import { parseTtl } from '../pki/authority.js';

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

async function withStore<T>(opts: { config?: string; database?: string }, fn: (s: OpenedStore) => Promise<T>): Promise<T> {
  const cfg = loadServerConfig({ file: opts.config, env: process.env, flags: opts.database ? { database: opts.database } : {} }).config;
  const store = await openStore(cfg);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const iso = (ms: number | null | undefined): string => (ms == null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

export function registerWorkerCommand(program: Command): void {
  const worker = program.command('worker').description('Workers: enrollment tokens, the enrolled workers, revocation (run where the server database is).');
  const common = (c: Command): Command => c.option('-c, --config <file>', 'server.yml naming the database').option('--database <path|url>', 'the database (overrides server.yml)');

  const token = worker.command('token').description('One-time enrollment tokens.');
  common(
    token
      .command('create')
      .description('Create an enrollment token and print it once (only its hash is stored).')
      .option('--region <region>', 'region the enrolled worker belongs to', 'global')
      .option('--ttl <duration>', 'how long the token is valid (30m, 1h, 7d)', '1h')
      .option('--uses <n>', 'how many workers may enroll with it', '1')
      .option('--description <text>', 'a note kept with the token', ''),
  ).action(async (o: { region: string; ttl: string; uses: string; description: string; config?: string; database?: string }) => {
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(o.region)) fail(`--region: expected a region name of lowercase letters, digits, ".", "_" or "-", got "${o.region}"`);
    const uses = Number(o.uses);
    if (!Number.isInteger(uses) || uses < 1 || uses > 10_000) fail(`--uses: expected an integer from 1 to 10000, got "${o.uses}"`);
    let ttlMs = 0;
    try {
      ttlMs = parseTtl(o.ttl);
    } catch (err) {
      fail((err as Error).message);
    }
    await withStore(o, async (s) => {
      const ca = await s.pki.getCa();
      if (!ca) fail('no worker CA in this database yet: start the server once (it creates the CA), then create tokens');
      const t = newToken({ region: o.region, ttlMs, uses, now: Date.now(), description: o.description });
      await s.pki.createToken(t.record);
      process.stdout.write(
        `${t.token}\n\n` +
          `region ${o.region}, ${uses} use(s), expires ${iso(t.record.expires_at)}. It is shown only now.\n` +
          `enroll a worker with:\n  vantage agent enroll --server <worker API URL> --token ${t.token} --ca-fingerprint sha256:${ca.fingerprint}${o.region !== 'global' ? ` --region ${o.region}` : ''}\n`,
      );
    });
  });
  common(token.command('list').description('List enrollment tokens (ids only; secrets are never stored).')).action(async (o: { config?: string; database?: string }) => {
    await withStore(o, async (s) => {
      const now = Date.now();
      const rows = [['ID', 'REGION', 'USES LEFT', 'EXPIRES', 'STATE', 'DESCRIPTION']];
      for (const t of await s.pki.listTokens()) {
        rows.push([t.id, t.region, `${t.uses_left}/${t.uses_total}`, iso(t.expires_at), t.uses_left <= 0 ? 'used' : t.expires_at <= now ? 'expired' : 'valid', t.description]);
      }
      process.stdout.write(table(rows));
    });
  });

  common(worker.command('list').description('List workers: id, region, hostname, version, status, last seen, certificate expiry, authentication.')).action(
    async (o: { config?: string; database?: string }) => {
      await withStore(o, async (s) => {
        const certs = new Map((await s.pki.latestCerts()).map((c) => [c.worker_id, c]));
        const auth = new Map((await s.pki.listAuth()).map((a) => [a.worker_id, a]));
        const rows = [['ID', 'REGION', 'HOSTNAME', 'VERSION', 'STATUS', 'LAST SEEN', 'CERT EXPIRES', 'AUTH']];
        for (const w of await s.monitoring.listWorkers()) {
          const c = certs.get(w.id);
          const a = auth.get(w.id)?.via;
          const how = a === undefined ? (c ? 'mtls' : '-') : a === 'mtls' ? 'mtls' : `${a} (weaker: shared secret)`;
          rows.push([w.id, w.region, w.hostname, w.version, c?.revoked_at != null ? 'revoked' : w.status, iso(w.last_seen_at), c ? iso(c.not_after) : '-', how]);
        }
        process.stdout.write(table(rows));
      });
    },
  );

  common(
    worker
      .command('revoke <id>')
      .description("Revoke a worker: its certificates are refused from now on and its open stream is closed within pki_revocation_check_seconds on every replica.")
      .requiredOption('--reason <text>', 'why (kept with the revocation)'),
  ).action(async (id: string, o: { reason: string; config?: string; database?: string }) => {
    await withStore(o, async (s) => {
      const now = Date.now();
      const certs = await s.pki.revokeWorkerCerts(id, o.reason, now);
      const known = await s.monitoring.revokeWorker(id, o.reason, now);
      if (!known && certs === 0) fail(`worker ${id}: no such worker`);
      process.stdout.write(`worker ${id} revoked (${certs} certificate(s)): ${o.reason}\n`);
    });
  });
}

/** `vantage agent enroll`: enrolls this host and stores key, certificate and CA in state_dir. */
export function registerEnrollCommand(agent: Command): void {
  agent
    .command('enroll')
    .description('Enroll this agent as a worker: make a key and CSR here, send them with a one-time token, store the certificate (0600) in state_dir.')
    .requiredOption('--server <url>', 'the worker API, e.g. https://vantage.example:8081')
    .requiredOption('--token <token>', 'enrollment token from `vantage worker token create`')
    .option('--ca-fingerprint <sha256>', 'the CA fingerprint printed with the token (without it the CA seen now is trusted)', '')
    .option('--region <region>', 'this worker\'s region (must be the token\'s)', 'global')
    .option('--state-dir <dir>', 'where the credentials are kept (default /var/lib/vantage as root, ~/.vantage otherwise)', '')
    .option('--hostname <name>', 'hostname to record (default: this host\'s)', '')
    .action(async (o: { server: string; token: string; caFingerprint: string; region: string; stateDir: string; hostname: string }) => {
      const [{ enroll }, { resolveStateDir }, os] = await Promise.all([import('../agent/worker/credentials.js'), import('../agent/reporter/identity.js'), import('node:os')]);
      if (!/^https?:\/\/[^\s/]+/.test(o.server)) fail(`--server: expected an https:// URL of the worker API, got "${o.server}"`);
      try {
        const r = await enroll({ workerUrl: o.server, token: o.token, caFingerprint: o.caFingerprint, region: o.region, hostname: o.hostname || os.hostname(), stateDir: resolveStateDir(o.stateDir) });
        if (r.pinned === 'first-contact') process.stderr.write(`warning: no --ca-fingerprint given; trusted the CA seen now, sha256:${r.caFingerprint}\n`);
        process.stdout.write(`enrolled as ${r.credentials.workerId} (region ${r.credentials.region}); certificate valid until ${iso(r.credentials.notAfter)}; stored in ${resolveStateDir(o.stateDir)}\n`);
      } catch (err) {
        fail((err as Error).message);
      }
    });
}
