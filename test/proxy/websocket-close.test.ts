import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { addBackend, makeEngine, startProxy, waitFor } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A WebSocket backend written on a raw TCP server that never ends its side: it answers the handshake, then
 * ignores everything, the client's FIN included (allowHalfOpen), as a misbehaving backend does.
 */
async function stubbornBackend() {
  const sockets: Array<{ socket: Socket; gotFin: boolean; closed: boolean }> = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const s = { socket, gotFin: false, closed: false };
    sockets.push(s);
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head.slice(0, end))?.[1] ?? '';
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      socket.resume(); // read and drop whatever comes
    };
    socket.on('data', onData);
    socket.on('end', () => (s.gotFin = true)); // and do not end in return
    socket.on('close', () => (s.closed = true));
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.socket.destroy();
        server.close(() => r());
      }),
  );
  /**
   * Resolves once the proxy's end of backend connection `i` is gone: the backend writes a byte (which a
   * half-open connection accepts silently) until the proxy's host answers with a reset.
   */
  const gone = (i: number) => waitFor(() => {
    const s = sockets[i]!;
    if (!s.closed) s.socket.write('x');
    return s.closed;
  }, `backend connection ${i} reset by the proxy`, 2_000);
  return { url: `http://127.0.0.1:${port}`, sockets, gone };
}

async function openClient(url: string) {
  const ws = new WebSocket(url);
  let closed = false;
  ws.on('close', () => (closed = true));
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
  });
  return { ws, closed: () => closed };
}

/** A proxy in front of one stubborn backend, and a client with its tunnel open. */
async function tunnel(over: Parameters<typeof startProxy>[1]) {
  const be = await stubbornBackend();
  const engine = makeEngine();
  addBackend(engine, 'A', be.url);
  const px = await startProxy(engine, over);
  cleanups.push(() => px.close());
  const client = await openClient(`${px.url.replace('http:', 'ws:')}/api/ws?tier=a`);
  await waitFor(() => be.sockets.length === 1, 'backend connected');
  return { be, engine, px, client };
}

describe('WebSocket tunnels end when their peers do', () => {
  it('closes the backend connection when the client has gone and the backend ignores the FIN (half-close timeout)', async () => {
    const { be, engine, px, client: c } = await tunnel({ halfCloseTimeoutMs: 300 });
    expect(px.proxy.inflight()).toBe(1);
    // The client's socket goes away (FIN); the proxy passes the FIN on and the backend never answers it.
    c.ws.terminate();
    await waitFor(() => be.sockets[0]?.gotFin === true, 'the backend got the FIN passed on');
    await waitFor(() => px.proxy.inflight() === 0, 'the proxy closed the half-open tunnel', 3_000);
    await be.gone(0);
    expect(engine.counts().reservations).toBe(0); // non-sticky: released with the tunnel
  });

  it('closes a tunnel in which nothing moved for the idle timeout (idle_timeout_seconds)', async () => {
    const { be, px, client: c } = await tunnel({ idleTimeoutMs: 300 });
    // Neither side sends or closes: the idle sweep closes both.
    await waitFor(() => c.closed() && px.proxy.inflight() === 0, 'the idle tunnel closed', 3_000);
    await be.gone(0);
  });
});
