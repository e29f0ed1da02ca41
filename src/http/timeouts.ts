/**
 * Connection-level limits for the node:http / https / http2 server.
 *
 * - `headersTimeout` = `read_header_timeout_seconds`: a client that has not finished sending its request
 *   headers by then (slowloris, or a connection that sends nothing) is answered 408 and closed.
 * - `requestTimeout` = `request_timeout_seconds`: the whole request (headers and body) must arrive within it.
 *   Node requires headersTimeout ≤ requestTimeout, so the header timeout is capped at the request timeout.
 * - `connectionsCheckingInterval` 1 s: Node checks those two timeouts on this period (default 30 s, far too
 *   coarse for a 10 s header timeout).
 * - `keepAliveTimeout` = `idle_timeout_seconds` (default 120 s, as Opsen's idle timeout): an idle keep-alive
 *   connection is closed after it. The default is longer than the 60 s idle timeout common in load balancers
 *   and HTTP clients in front of us, so the server is never the side that closes a connection the client is
 *   about to reuse (which shows up as sporadic 502s / ECONNRESET). HTTP/2 sessions follow the same value.
 * - `requireHostHeader` true (HTTP/1.1 without Host → 400).
 * - `handshakeTimeout` (HTTPS) = the header timeout: a TLS handshake must finish as quickly.
 * - A connection that sends no byte at all within the header timeout is closed (`closeSilentConnections`):
 *   Node's header timer only starts with the first byte.
 *
 * The whole-response timeout for handlers (SSE and WebSocket exempt) is the pipeline's timeout stage, not this.
 */
import type { Socket } from 'node:net';

export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

export interface TimeoutSettings {
  request_timeout_seconds: number;
  read_header_timeout_seconds: number;
  idle_timeout_seconds: number;
}

export interface HttpServerTimeouts {
  requestTimeout: number;
  headersTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
  requireHostHeader: boolean;
  handshakeTimeout: number;
}

export function httpServerTimeouts(c: TimeoutSettings): HttpServerTimeouts {
  const requestTimeout = c.request_timeout_seconds * 1000;
  const headersTimeout = Math.min(c.read_header_timeout_seconds * 1000, requestTimeout);
  return {
    requestTimeout,
    headersTimeout,
    keepAliveTimeout: c.idle_timeout_seconds * 1000,
    connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    requireHostHeader: true,
    handshakeTimeout: headersTimeout,
  };
}

/**
 * Closes connections that have not sent a single byte within `timeoutMs()` (read on each new connection, so a
 * reload applies). Works for HTTP and HTTPS servers ('connection' carries the TCP socket).
 */
export function closeSilentConnections(server: { on(event: 'connection', fn: (socket: Socket) => void): unknown }, timeoutMs: () => number): void {
  server.on('connection', (socket: Socket) => {
    const t = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, timeoutMs());
    t.unref();
    socket.once('close', () => clearTimeout(t));
  });
}

/** Updates the timeouts of a running server (after a config reload); new values apply to new requests. */
export function applyServerTimeouts(
  server: { requestTimeout: number; headersTimeout: number; keepAliveTimeout: number },
  c: TimeoutSettings,
): void {
  const t = httpServerTimeouts(c);
  // Order matters: Node checks headersTimeout ≤ requestTimeout.
  if (t.requestTimeout >= server.requestTimeout) {
    server.requestTimeout = t.requestTimeout;
    server.headersTimeout = t.headersTimeout;
  } else {
    server.headersTimeout = t.headersTimeout;
    server.requestTimeout = t.requestTimeout;
  }
  server.keepAliveTimeout = t.keepAliveTimeout;
}
