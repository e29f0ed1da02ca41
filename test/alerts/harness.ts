/**
 * Test harness of the alerts e2e tests: a monitor with leased jobs per region (through the store interface),
 * results through the real IngestQueue, a real HTTP receiver and a real SMTP server (smtp-server) on loopback.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { ALERT_FIELDS } from '../../src/config/alerts.js';
import { defaultsOf } from '../../src/config/fields.js';
import type { IngestQueue } from '../../src/monitoring/control/ingest.js';
import type { AlertsConfig } from '../../src/monitoring/alerts/index.js';
import type { MonitoringStore } from '../../src/store/monitoring.js';
import { result, spec } from '../store/contract/fixtures.js';

export const ALERT_DEFAULTS = defaultsOf(ALERT_FIELDS, Object.keys(ALERT_FIELDS) as (keyof typeof ALERT_FIELDS)[]) as unknown as AlertsConfig;

export function alertsConfig(over: Partial<AlertsConfig> = {}): AlertsConfig {
  return { ...ALERT_DEFAULTS, ...over };
}

/** A monitor in `regions` with one leased job per region per run time; `next(region)` hands out run ids in order. */
export async function monitorWithJobs(store: MonitoringStore, o: { id: string; name: string; regions: string[]; runs: number[]; now: number }) {
  await store.createMonitor(spec({ name: o.name, regions: o.regions }), { id: o.id, actor: 'test', now: o.now, jitterSeed: 1 });
  let n = 0;
  await store.scheduleDue(o.now, 0, () => ({ runs: [...o.runs], nextDueAt: o.now + 1e12, catchUp: false }), () => `${o.id}-r${n++}`);
  const queues = new Map<string, { runId: string; at: number }[]>();
  for (const region of o.regions) {
    const leased = await store.leaseJobs({ workerId: `w-${region}`, region, count: 10_000, now: Math.max(...o.runs), leadMs: 0, leaseMs: 1e12 });
    queues.set(region, leased.filter((j) => j.monitor_id === o.id).sort((a, b) => a.scheduled_at - b.scheduled_at).map((j) => ({ runId: j.run_id, at: j.scheduled_at })));
  }
  return {
    /** Submits the next result of `region` through ingest; resolves after the commit and the listeners. */
    async run(ingest: IngestQueue, region: string, status: 'up' | 'down', latency = 40): Promise<number> {
      const job = queues.get(region)!.shift();
      if (!job) throw new Error(`no job left in ${region}`);
      const outcome = await ingest.submit(`w-${region}`, result(job.runId, job.at, { status, total_ms: latency, error: status === 'down' ? 'connection refused' : null }), { monitorId: o.id, region });
      if (outcome !== 'stored') throw new Error(`ingest: ${outcome}`);
      return job.at;
    },
  };
}

export interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP receiver on loopback that records every POST; `stop()` and `start()` (same port) simulate an outage. */
export class Receiver {
  readonly got: Received[] = [];
  status = 200;
  private server: Server | null = null;
  port = 0;

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.got.push({ at: Date.now(), path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(this.status, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  json(i: number): Record<string, unknown> {
    return JSON.parse(this.got[i]!.body) as Record<string, unknown>;
  }
}

export interface Mail {
  to: string[];
  raw: string;
}

/** A real SMTP server (smtp-server) on loopback, no TLS, no auth. */
export class SmtpReceiver {
  readonly mails: Mail[] = [];
  private server: SMTPServer | null = null;
  port = 0;

  async start(): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
          cb();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
