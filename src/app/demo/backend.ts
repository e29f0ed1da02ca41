import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';

export interface DemoBackend {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The built-in demo backend that `npm start` (`vantage server --with-agent`) runs so that the local machine is
 * a real, routable and proxyable backend: GET /health answers 200, any other request gets a small JSON echo.
 * Tries `port` first and falls back to a free port when it is taken.
 */
export async function startDemoBackend(opts: { host?: string; port?: number } = {}): Promise<DemoBackend> {
  const host = opts.host ?? '127.0.0.1';
  const name = hostname();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const body =
      path === '/health'
        ? JSON.stringify({ status: 'ok' })
        : JSON.stringify({ backend: name, demo: true, method: req.method, path: req.url, time: new Date().toISOString() });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  const tryListen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  try {
    await tryListen(opts.port ?? 11000);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    await tryListen(0);
  }
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
