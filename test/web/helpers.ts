/** Shared set-up of the web service tests: a real SQLite store, a real engine and the web handler on loopback. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import type { DescService } from '@bufbuild/protobuf';
import { openSqliteStore, type OpenedStore } from '../../src/store/index.js';
import { createWebHandler } from '../../src/api/web/handler.js';
import { testEngine } from '../support/synthetic.js';
import type { Timers } from '../../src/platform/timers.js';

export interface WebFixture {
  url: string;
  store: OpenedStore;
  engine: ReturnType<typeof testEngine>['engine'];
  clock: ReturnType<typeof testEngine>['clock'];
  client<S extends DescService>(s: S): Client<S>;
  /** Extra routes tried before the Connect handler. */
  routes: Array<(req: http.IncomingMessage, res: http.ServerResponse) => boolean>;
  close(): Promise<void>;
}

export async function webFixture(): Promise<WebFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-web-'));
  const store = openSqliteStore(join(dir, 'vantage.db'));
  const { engine, clock } = testEngine();
  const handler = createWebHandler({ store: store.monitoring, dashboard: store.dashboard, engine, now: clock.now, auth: { server_key: 'srv', api_keys: [] } });
  const routes: WebFixture['routes'] = [];
  const srv = http.createServer((req, res) => {
    for (const r of routes) if (r(req, res)) return;
    if (!handler(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const transport = createConnectTransport({ baseUrl: url, httpVersion: '1.1', useBinaryFormat: false, interceptors: [(next) => (req) => (req.header.set('x-api-key', 'srv'), next(req))] });
  return {
    url,
    store,
    engine,
    clock,
    routes,
    client: (s) => createClient(s, transport),
    async close() {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Timers that fire only when the test says so: `fire()` runs every due callback once. */
export function manualTimers(): Timers & { fire(): void; pending(): number } {
  let next = 1;
  const due = new Map<number, () => void>();
  return {
    setTimeout(fn) {
      const id = next++;
      due.set(id, fn);
      return id;
    },
    clearTimeout(h) {
      due.delete(h as number);
    },
    fire() {
      const now = [...due.entries()];
      due.clear();
      for (const [, fn] of now) fn();
    },
    pending: () => due.size,
  };
}
