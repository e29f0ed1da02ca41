/**
 * Worker PKI bench: 100 workers enrolling against a real worker API (real TLS, real SQLite file; each makes its
 * key and CSR, the server checks the token and signs), then the cost of a TLS handshake with a client
 * certificate on the worker API (wall ms per handshake and server-process CPU ms per handshake, sequential).
 * Then where the time of one enrollment goes (each stage alone, sequential, CPU of this process): the agent's
 * key + CSR, the server's CSR check, signing, the token check (sha256 of the secret: tokens are 32 random bytes,
 * so no slow password hash is needed) and the store writes. An enrollment uses one TLS connection.
 * Target: 100 enrollments ≤ 10 s.  Run: npm run bench:enroll [-- --workers 100 --handshakes 200 --stages 50]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import { Registry } from 'prom-client';
import { startMonitoringPlane } from '../src/app/monitoring.js';
import { openSqliteStore } from '../src/store/index.js';
import { enroll } from '../src/agent/worker/credentials.js';
import { createCsr, issueWorkerCert, parseCsr } from '../src/pki/issue.js';
import { hashSecret } from '../src/pki/tokens.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const WORKERS = arg('workers', 100);
const HANDSHAKES = arg('handshakes', 200);
const CONCURRENCY = arg('concurrency', 10);
const STAGES = arg('stages', 50);

const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-enroll-'));
const opened = openSqliteStore(join(dir, 'v.db'));
const mon = await startMonitoringPlane({
  config: { host: '127.0.0.1', worker_port: 0, worker_auth: 'mtls', pki_ca_cert_file: join(dir, 'ca.pem'), pki_ca_key_file: join(dir, 'ca-key.pem') } as never,
  logger: pino({ level: 'silent' }),
  store: opened.monitoring,
  pkiStore: opened.pki,
  engine: 'sqlite',
  leader: opened.leader,
  registry: new Registry(),
});
const url = `https://127.0.0.1:${mon.workerPort}`;
const tokens = await Promise.all(Array.from({ length: WORKERS }, () => mon.pki!.createToken({ region: 'global', ttlMs: 600_000, uses: 1 })));

const lat: number[] = [];
const t0 = performance.now();
let next = 0;
let creds: Awaited<ReturnType<typeof enroll>>['credentials'] | null = null;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < WORKERS) {
      const i = next++;
      const s = performance.now();
      const r = await enroll({ workerUrl: url, token: tokens[i]!, caFingerprint: mon.pki!.caFingerprint, region: 'global', hostname: `bench-${i}`, stateDir: join(dir, `w${i}`) });
      lat.push(performance.now() - s);
      creds ??= r.credentials;
    }
  }),
);
const totalMs = performance.now() - t0;

// Handshakes with the client certificate, one after another; CPU is this process's (it hosts the server and
// the client, so the figure is an upper bound of the server's share).
const cpu0 = process.cpuUsage();
const h0 = performance.now();
for (let i = 0; i < HANDSHAKES; i++) {
  await new Promise<void>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: mon.workerPort, key: creds!.key, cert: creds!.cert, ca: [creds!.ca], ALPNProtocols: ['h2'], servername: 'localhost' }, () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}
const hsWall = (performance.now() - h0) / HANDSHAKES;
const cpu = process.cpuUsage(cpu0);
const hsCpu = (cpu.user + cpu.system) / 1000 / HANDSHAKES;

/** Mean wall and CPU ms of `f` over STAGES sequential runs. */
async function stage(f: (i: number) => Promise<unknown>): Promise<[string, string]> {
  const c0 = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < STAGES; i++) await f(i);
  const c = process.cpuUsage(c0);
  return [`${((performance.now() - t) / STAGES).toFixed(2)} ms`, `${((c.user + c.system) / 1000 / STAGES).toFixed(2)} ms`];
}
const sample = await createCsr('bench');
const parsed = await parseCsr(sample.csrPem);
const stageTokens = await Promise.all(Array.from({ length: STAGES }, () => mon.pki!.createToken({ region: 'global', ttlMs: 600_000, uses: 1 })));
const stages: Array<[string, [string, string]]> = [
  ['agent: P-256 key + CSR', await stage(() => createCsr('bench'))],
  ['server: CSR parse + signature check', await stage(() => parseCsr(sample.csrPem))],
  ['server: sign the worker certificate', await stage(() => issueWorkerCert(mon.pki!.ca, parsed, { workerId: 'wrk_bench', region: 'global', now: Date.now(), days: 30 }))],
  ['server: token hash (sha256)', await stage(async () => hashSecret('x'.repeat(43)))],
  [
    'server: token use + certificate record (SQLite)',
    await stage(async (i) => {
      await opened.pki.consumeToken('nonexistent00', hashSecret('x'), Date.now());
      await opened.pki.recordCert({ serial: `BENCH${i}`, worker_id: 'wrk_bench', region: 'global', hostname: 'h', not_before: 0, not_after: 1, issued_at: 0, via: 'token', revoked_at: null, revoked_reason: null, superseded_at: null });
    }),
  ],
  ['TLS handshake (client + server)', [`${hsWall.toFixed(2)} ms`, `${hsCpu.toFixed(2)} ms`]],
  ['whole enrollment, one at a time', await stage((i) => enroll({ workerUrl: url, token: stageTokens[i]!, caFingerprint: mon.pki!.caFingerprint, region: 'global', hostname: 'stage', stateDir: join(dir, `s${i}`) }))],
];

lat.sort((a, b) => a - b);
const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(1);
const rows: Array<[string, string, string]> = [
  ['metric', 'value', 'target'],
  [`enroll ${WORKERS} workers (concurrency ${CONCURRENCY})`, `${(totalMs / 1000).toFixed(2)} s`, '≤ 10 s'],
  ['enroll latency p50 / p99', `${pct(0.5)} / ${pct(0.99)} ms`, ''],
  [`mTLS handshake, wall (${HANDSHAKES}, sequential)`, `${hsWall.toFixed(2)} ms`, 'reported'],
  ['mTLS handshake, CPU (client + server, one process)', `${hsCpu.toFixed(2)} ms`, 'reported'],
];
const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i]!)).join(' | '));
console.log('');
const srows: string[][] = [[`one enrollment, by stage (${STAGES} runs each, sequential)`, 'wall', 'CPU'], ...stages.map(([n, [wall, cpu]]) => [n, wall, cpu])];
const sw = srows[0]!.map((_, i) => Math.max(...srows.map((r) => r[i]!.length)));
for (const r of srows) console.log(r.map((c, i) => c.padEnd(sw[i]!)).join(' | '));
await mon.stop();
await opened.close();
rmSync(dir, { recursive: true, force: true });
process.exit(totalMs <= 10_000 ? 0 : 1);
