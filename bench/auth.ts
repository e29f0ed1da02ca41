/**
 * Costs of the web port's auth (npm run bench:auth): scrypt hashing and verification (a sign-in), resolving a
 * session cookie against SQLite (every authenticated request), and GET /api/auth/session over real HTTP with
 * a cookie (sequential, keep-alive). Prints a table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { hashPassword, verifyPassword } from '../src/auth/password.js';
import { SessionManager } from '../src/auth/session.js';
import { openSqliteStore } from '../src/store/index.js';
import { startServer } from '../src/app/server.js';
import { ServerConfigSchema } from '../src/config/server.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const rows: Array<[string, number, string, string]> = [];
const row = (what: string, samples: number[], unit: 'ms' | 'µs') => {
  const f = (v: number) => (unit === 'µs' ? (v * 1000).toFixed(1) : v.toFixed(1));
  rows.push([what, samples.length, `${f(pct(samples, 50))} ${unit}`, `${f(pct(samples, 99))} ${unit}`]);
};

async function time(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'vantage-bench-auth-'));
try {
  const hash = await hashPassword('bench-password-1');
  row('scrypt hash (new password)', await time(20, () => hashPassword('bench-password-1')), 'ms');
  row('scrypt verify (sign-in)', await time(20, () => verifyPassword('bench-password-1', hash)), 'ms');

  const store = openSqliteStore(join(dir, 'sessions.db'));
  await store.users.createUser({ id: 'u1', username: 'bench', role: 'admin', password_hash: hash }, Date.now());
  const sessions = new SessionManager({ store: store.users, secret: 'bench-secret', ttlMs: 86_400_000, now: Date.now });
  const issued = await Promise.all(Array.from({ length: 1000 }, () => sessions.issue('u1')));
  let i = 0;
  row('resolve a session cookie (SQLite, 1 000 sessions)', await time(5000, () => sessions.resolve(issued[i++ % issued.length]!.cookie)), 'µs');
  await store.close();

  const config = ServerConfigSchema.parse({ port: 0, host: '127.0.0.1', database: join(dir, 'v.db'), monitoring_enabled: false, health_check_enabled: false, web_port: 0, web_tls_disable: true });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), web: { staticDir: null } });
  await server.store.users.createUser({ id: 'u1', username: 'bench', role: 'admin', password_hash: hash }, Date.now());
  const s = await new SessionManager({ store: server.store.users, secret: await server.store.users.secret('session_secret', 'x'), ttlMs: 86_400_000, now: Date.now }).issue('u1');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL('/api/auth/session', server.web!.web.url);
  const get = () =>
    new Promise<void>((resolve, reject) => {
      const r = request(url, { agent, headers: { cookie: `vantage_session=${s.cookie}` } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.resume();
        res.on('end', () => resolve());
      });
      r.on('error', reject);
      r.end();
    });
  await time(200, get);
  row('GET /api/auth/session with a cookie (HTTP, keep-alive)', await time(3000, get), 'ms');
  agent.destroy();
  await server.close({ timeoutMs: 1000 });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const w = [52, 8, 12, 12];
const line = (cells: Array<string | number>) => cells.map((c, k) => String(c).padEnd(w[k]!)).join(' | ');
console.log(line(['what', 'n', 'p50', 'p99']));
console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
for (const r of rows) console.log(line(r));
