/**
 * Exactly once across a SIGKILL, with three real `vantage server --with-agent` processes (dist/; `npm run build`
 * first) on one PostgreSQL database. Each runs its local agent as a monitoring worker; a server.yml monitor checks
 * a closed port, so it goes down on real results ingested by whichever replica its worker streams to. The webhook
 * receiver on loopback stalls every request (never answers) until the leader is SIGKILLed in the middle of its
 * send: the state change and the outbox row are committed, the send has started, the delivery is not recorded.
 * Another replica leads, its sender takes the row over once the dead leader's claim runs out, and delivers it.
 * The receiver answers exactly one delivery of the event, and every attempt it saw carries the same idempotency
 * key (the documented resend window: a request the killed leader had already written).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../monitoring/helpers.js';
import { freePort, sql, startCluster, type Cluster } from './cluster.js';
import { http, startReplica, type Replica } from './replicas.js';

const LEADS = 'acquired the leader lock';
let cluster: Cluster;
let dir: string;
const replicas: Replica[] = [];

interface Hit {
  key: string;
  event: string;
  answered: boolean;
}

/** Records every POST; while `stalling`, holds each one open without an answer. */
class StallingReceiver {
  readonly hits: Hit[] = [];
  stalling = true;
  private readonly held: ServerResponse[] = [];
  private readonly server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: IncomingHttpHeaders = req.headers;
      const hit: Hit = { key: String(headers['x-vantage-idempotency-key']), event: String(headers['x-vantage-event']), answered: false };
      this.hits.push(hit);
      if (this.stalling) {
        this.held.push(res);
        return;
      }
      hit.answered = true;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const rx = new StallingReceiver();

beforeAll(async () => {
  cluster = await startCluster();
  dir = mkdtempSync(join(tmpdir(), 'vantage-sigkill-alerts-'));
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
  await rx.stop();
  await cluster?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('alerts exactly once, three real server processes, leader SIGKILLed mid-send', () => {
  it('the next leader delivers the down event once; every attempt carries the same idempotency key', async () => {
    const url = await cluster.createDatabase('alerts_sigkill');
    const hook = await rx.start();
    const closed = await freePort(); // nothing listens here: the monitor fails
    const base = {
      health_check_enabled: false,
      alert_failure_threshold: 2,
      alert_sender_interval_ms: 100,
      alert_send_timeout_ms: 2000,
      alert_retry_base_ms: 500,
      alert_channels: [{ name: 'hook', type: 'webhook', default: true, settings: { url: hook, secret: 's3cret' } }],
    };
    for (const name of ['a', 'b', 'c']) {
      const cfg = join(dir, `${name}.json`);
      // The monitor is declared on the first replica only (the others see it in the database).
      writeFileSync(cfg, JSON.stringify(name === 'a' ? { ...base, monitors: [{ name: 'doomed', url: `http://127.0.0.1:${closed}/`, interval: '1s', timeout: '500ms' }] } : base));
      const r = await startReplica({ name, database: url, args: ['--config', cfg, '--with-agent', '--demo-port', '0'] });
      replicas.push(r);
      await waitFor(async () => (await http(`${r.url}/health`)).status === 200 || r.proc.exitCode !== null, { timeoutMs: 40_000, intervalMs: 100, what: `${name} healthy` });
      if (r.proc.exitCode !== null) throw new Error(`${name} exited:\n${r.output()}`);
    }
    const alive = () => replicas.filter((r) => r.proc.exitCode === null && r.proc.signalCode === null);
    // The local agents keep their state under the server's state dir (./data with PostgreSQL), not under a
    // folder named after the postgres:// URL.
    expect(existsSync(resolve('postgres:'))).toBe(false);

    // The leader's sender starts the send; the receiver holds it. Kill the leader there.
    await waitFor(() => rx.hits.length > 0, { timeoutMs: 60_000, intervalMs: 20, what: 'the first webhook attempt' });
    const leader = alive().find((r) => r.output().includes(LEADS));
    expect(leader, 'a leader among the replicas').toBeDefined();
    await leader!.kill('SIGKILL');
    const [first] = rx.hits;
    expect(first!.event).toBe('down');
    expect(rx.hits.every((h) => !h.answered)).toBe(true);
    const killedAt = Date.now();
    rx.stalling = false;

    // Another replica leads; once the dead leader's claim (2 × send timeout + 5 s) runs out it sends the row.
    await waitFor(() => rx.hits.some((h) => h.answered), { timeoutMs: 60_000, intervalMs: 50, what: 'the new leader to deliver' });
    expect(Date.now() - killedAt).toBeLessThan(45_000);
    await waitFor(async () => (await sql<{ status: string }>(url, "SELECT status FROM alert_outbox WHERE kind = 'down'")).every((r) => r.status === 'delivered'), {
      timeoutMs: 10_000,
      what: 'the delivery recorded',
    });
    // Recorded as delivered (claims take pending rows only, so no sender sends it again), with its timeline entry.
    expect(await sql(url, "SELECT 1 FROM incident_events WHERE kind = 'notification' AND message LIKE '%delivered%'")).toHaveLength(1);

    const down = rx.hits.filter((h) => h.event === 'down');
    expect(new Set(down.map((h) => h.key)).size).toBe(1);
    expect(down.filter((h) => h.answered)).toHaveLength(1);
    const outbox = await sql<{ kind: string; status: string; idempotency_key: string }>(url, 'SELECT kind, status, idempotency_key FROM alert_outbox');
    expect(outbox).toEqual([{ kind: 'down', status: 'delivered', idempotency_key: first!.key }]);
    expect(await sql(url, "SELECT id FROM incidents WHERE kind = 'auto'")).toHaveLength(1);
    expect(alive()).toHaveLength(2);
  }, 180_000);
});
