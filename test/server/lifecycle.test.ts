import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSqliteFile as readDb } from '../store/sqlite-file.js';
import { addBackend, api, registerBody, spawnServer, statsBody, tempDir, waitFor, type ServerProcess } from './helpers.js';

const DAY = 86_400_000;

/** Starts a POST whose body is only half sent, and resolves with the raw answer once it is completed. */
function halfSentRequest(port: number, path: string, body: string) {
  const socket = connect(port, '127.0.0.1');
  const half = Math.floor(body.length / 2);
  let answer = '';
  socket.on('data', (c: Buffer) => (answer += c.toString()));
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(answer)));
  socket.on('error', () => undefined);
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
  );
  return {
    finish: () => socket.write(body.slice(half)),
    answer: () => waitFor(() => (answer.includes('\r\n\r\n{') && answer.trimEnd().endsWith('}') ? answer : null), 'the answer'),
    closed,
    destroy: () => socket.destroy(),
  };
}

describe('server lifecycle (real processes, real SQLite file)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  const setup = () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };
  const track = (s: ServerProcess) => {
    cleanups.push(async () => {
      if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
      await s.exited;
    });
    return s;
  };

  it('an acknowledged registration survives kill -9 right after the 200', async () => {
    const dir = setup();
    const s1 = track(await spawnServer(dir, {}));
    const r = await api(s1.url, '/register', { body: registerBody('durable-1') });
    expect(r.status).toBe(200);
    s1.signal('SIGKILL');
    expect(await s1.exited).toBe('SIGKILL');
    const s2 = track(await spawnServer(dir, {}));
    const list = await api(s2.url, '/clients');
    expect(list.json.map((c: { client_id: string }) => c.client_id)).toEqual(['durable-1']);
    await s2.stop();
  });

  it('a restarted server reuses sticky assignments and the latest stats (routes exactly as before)', async () => {
    const dir = setup();
    const cfg = { sticky_header: 'X-Session-ID' };
    const s1 = track(await spawnServer(dir, cfg));
    await addBackend(s1.url, 'a', {}, { cpu_usage_avg: Array(16).fill(10) });
    await addBackend(s1.url, 'b', {}, { cpu_usage_avg: Array(16).fill(20) });
    const first = await api(s1.url, '/route', { body: { tier: 'small' }, headers: { 'X-Session-ID': 's1' } });
    expect(first.json).toMatchObject({ client_id: 'a', sticky: false });
    // a becomes the worse choice; the session stays on it, a new one goes to b.
    await api(s1.url, '/stats', { body: statsBody('a', { cpu_usage_avg: Array(16).fill(70) }) });
    expect((await api(s1.url, '/route', { body: { tier: 'small' }, headers: { 'X-Session-ID': 's1' } })).json).toMatchObject({ client_id: 'a', sticky: true });
    expect((await api(s1.url, '/route', { body: { tier: 'small' }, headers: { 'X-Session-ID': 's2' } })).json.client_id).toBe('b');
    expect(await s1.stop()).toBe(0);

    const s2 = track(await spawnServer(dir, cfg));
    expect((await api(s2.url, '/route', { body: { tier: 'small' }, headers: { 'X-Session-ID': 's1' } })).json).toMatchObject({ client_id: 'a', sticky: true });
    expect((await api(s2.url, '/route', { body: { tier: 'small' }, headers: { 'X-Session-ID': 's2' } })).json).toMatchObject({ client_id: 'b', sticky: true });
    // The restored stats are the latest ones (a at 70 %), so a fresh session still prefers b.
    expect((await api(s2.url, '/route', { body: { tier: 'small' }, headers: { 'X-Session-ID': 's3' } })).json).toMatchObject({ client_id: 'b', sticky: false });
    const a = (await api(s2.url, '/clients')).json.find((c: { client_id: string }) => c.client_id === 'a');
    expect(a.cpu_usage_pct).toBe(70);
    await s2.stop();
  });

  it('SIGTERM finishes the in-flight request, flushes pending writes, closes the database and exits 0', async () => {
    const dir = setup();
    const s = track(await spawnServer(dir, { shutdown_timeout_seconds: 20 }));
    await addBackend(s.url, 'flush-me');
    for (let i = 0; i < 5; i++) await api(s.url, '/stats', { body: statsBody('flush-me') });
    const inflight = halfSentRequest(s.port, '/register', JSON.stringify(registerBody('late-arrival')));
    await waitFor(async () => (await api(s.url, '/metrics')).text.includes('vantage_http_requests_total{route="/stats",status="200"} 6'), 'stats counted');
    s.signal('SIGTERM');
    await waitFor(() => s.output().includes('shutting down'), 'the shutdown log line');
    // The listener is closed: new connections are refused while the in-flight request is still served.
    await expect(api(s.url, '/health')).rejects.toThrow();
    inflight.finish();
    const answer = await inflight.answer();
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('"status":"registered"');
    expect(await s.exited).toBe(0);
    const file = join(dir, 'vantage.db');
    readDb(file, (db) => {
      expect((db.prepare('SELECT client_id FROM clients ORDER BY client_id').all() as { client_id: string }[]).map((r) => r.client_id)).toEqual([
        'flush-me',
        'late-arrival',
      ]);
      expect((db.prepare('SELECT COUNT(*) AS n FROM stats').get() as { n: number }).n).toBe(6);
    });
  });

  it('a second signal exits at once, without waiting for in-flight requests', async () => {
    const dir = setup();
    const s = track(await spawnServer(dir, { shutdown_timeout_seconds: 60 }));
    const inflight = halfSentRequest(s.port, '/register', JSON.stringify(registerBody('never-finished')));
    cleanups.push(() => void inflight.destroy());
    await waitFor(async () => (await api(s.url, '/health')).status === 200, 'server up');
    s.signal('SIGTERM');
    await waitFor(() => s.output().includes('shutting down'), 'the shutdown log line');
    const t0 = Date.now();
    s.signal('SIGINT');
    expect(await s.exited).toBe(130);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('the cleanup job deletes stats older than the retention period and nothing else', async () => {
    const dir = setup();
    const s = track(await spawnServer(dir, { cleanup_interval_seconds: 1, stats_retention_days: 7, sticky_header: 'X-Session-ID' }));
    await addBackend(s.url, 'old-and-new');
    await addBackend(s.url, 'other');
    const now = Date.now();
    for (const ageDays of [30, 10, 8, 7.5]) {
      const r = await api(s.url, '/stats', { body: statsBody('old-and-new', { timestamp: new Date(now - ageDays * DAY).toISOString() }) });
      expect(r.status).toBe(200);
    }
    for (const ageDays of [6, 1]) {
      await api(s.url, '/stats', { body: statsBody('old-and-new', { timestamp: new Date(now - ageDays * DAY).toISOString() }) });
    }
    await api(s.url, '/route', { body: { tier: 'small' }, headers: { 'X-Session-ID': 'keep-me' } });
    const file = join(dir, 'vantage.db');
    const count = (sql: string, ...args: unknown[]) => readDb(file, (db) => (db.prepare(sql).get(...args) as { n: number }).n);
    // Rows are written behind and deleted by the periodic job: wait for the sticky row to land, then for the
    // old rows to go.
    await waitFor(() => count('SELECT COUNT(*) AS n FROM sticky_assignments') === 1, 'the sticky assignment to be written');
    await waitFor(() => count('SELECT COUNT(*) AS n FROM stats WHERE timestamp < ?', now - 7 * DAY) === 0 && count('SELECT COUNT(*) AS n FROM stats') > 0, 'old stats to be deleted', 15_000);
    // Kept: the two recent reports of old-and-new, the initial reports (now) of both backends, both clients and the sticky assignment.
    expect(count('SELECT COUNT(*) AS n FROM stats WHERE client_id = ?', 'old-and-new')).toBe(3);
    expect(count('SELECT COUNT(*) AS n FROM stats WHERE client_id = ?', 'other')).toBe(1);
    expect(count('SELECT COUNT(*) AS n FROM clients')).toBe(2);
    expect(count('SELECT COUNT(*) AS n FROM sticky_assignments')).toBe(1);
    await s.stop();
  });
});
