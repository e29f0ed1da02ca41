import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type Handler = (req: Recorded, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 whose answers the test scripts; it records every request. */
export async function scriptedServer(handler: Handler): Promise<{
  url: string;
  port: number;
  requests: Recorded[];
  setHandler: (h: Handler) => void;
  close: () => Promise<void>;
  server: Server;
}> {
  let current = handler;
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        /* keep text */
      }
      const rec: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      requests.push(rec);
      current(rec, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setHandler: (h) => (current = h),
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Answers like the Vantage server: registered/ok; 404 for stats of an unknown client. */
export function fakeVantage(known = new Set<string>()): Handler {
  return (req, res) => {
    const b = req.body as { client_id?: string };
    if (req.path === '/register') {
      known.add(b.client_id ?? '');
      json(res, 200, { status: 'registered' });
    } else if (req.path === '/stats') {
      if (!known.has(b.client_id ?? '')) json(res, 404, { error: 'unknown client', field: 'client_id' });
      else json(res, 200, { status: 'ok' });
    } else json(res, 404, { error: 'not found' });
  };
}
