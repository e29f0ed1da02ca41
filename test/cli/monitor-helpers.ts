/** A monitoring plane with its web API on a loopback HTTP server, for the `vantage monitor` command tests. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { startMonitoringPlane, type MonitoringHandle } from '../../src/app/monitoring.js';
import type { MonitorCliIo } from '../../src/cli/monitor.js';
import { tempStore } from '../monitoring/helpers.js';

export const API_KEY = 'cli-key';

export interface WebApi {
  base: string;
  mon: MonitoringHandle;
  close(): Promise<void>;
}

export async function startWebApi(): Promise<WebApi> {
  const t = tempStore();
  const mon = await startMonitoringPlane({
    config: { host: '127.0.0.1', worker_port: 0, server_key: API_KEY },
    logger: pino({ level: 'silent' }),
    store: t.store,
    leader: t.leader,
    registry: new Registry(),
  });
  const server = http.createServer((req, res) => {
    if (!mon.webHandler(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mon,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await mon.stop();
      t.close();
    },
  };
}

/** Captures what a command prints. */
export function captureIo(): { io: MonitorCliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s) => out.push(s), err: (s) => err.push(s) }, out, err };
}

/** A raw Connect JSON call, as a non-Vantage client sends it. */
export async function rawCall(base: string, method: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/vantage.v1.MonitorsService/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
