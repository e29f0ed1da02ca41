/**
 * HTTPS with HTTP/2 via ALPN on the main port (`tls_cert_file` + `tls_key_file`, `http2: true`).
 *
 * One `http2.createSecureServer({ allowHTTP1: true })` serves both: a client that offers "h2" in ALPN gets an
 * HTTP/2 session, every other client (ALPN "http/1.1" or none) gets the ordinary HTTP/1.1 server with the same
 * timeouts, response class and request handler as plain HTTPS. Handlers see Node's HTTP/2 compatibility
 * request/response (`Http2ServerRequest`/`Http2ServerResponse`), which behave like IncomingMessage and
 * ServerResponse except that:
 *   - `req.headers.host` is usually absent; the authority is in `:authority` (`requestAuthority`);
 *   - `req.rawHeaders` holds the pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`);
 *   - connection-specific headers (`Connection`, `Keep-Alive`, …) are forbidden (`connectionClose`);
 *   - a request body has no Transfer-Encoding; without Content-Length its presence is `hasRequestBody`.
 *
 * Limits and timeouts of HTTP/2 sessions (HTTP/1.1 connections keep those of http/timeouts.ts):
 *   - a new session must open its first stream within `read_header_timeout_seconds` (the equivalent of the
 *     HTTP/1.1 header timeout: a client that completes the handshake and then sends nothing or trickles an
 *     incomplete HEADERS frame is closed);
 *   - a session without open streams is closed (GOAWAY) after the keep-alive timeout (`idle_timeout_seconds`), measured from its
 *     last stream's end whatever bytes (PINGs, partial frames) arrive meanwhile;
 *   - a request body must arrive completely within `request_timeout_seconds`, as for HTTP/1.1 (408, then the
 *     stream is reset);
 *   - at most `H2_LIMITS.maxConcurrentStreams` concurrent streams per session (SETTINGS_MAX_CONCURRENT_STREAMS),
 *     `maxSessionMemory` MB of buffered data per session (new streams are refused above it), and Node's defaults
 *     for header list size and invalid/rejected frame floods.
 * There is no per-stream header timeout: HTTP/2 headers arrive in one HEADERS frame (plus CONTINUATION frames,
 * which nghttp2 bounds), so the session deadlines above take that role.
 */
import {
  constants as h2,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Counter, type Registry } from 'prom-client';
import type { TLSSocket } from 'node:tls';
import { sendJson } from './errors.js';
import { VantageResponse } from './response.js';
import type { HttpServerTimeouts } from './timeouts.js';
import type { TlsMaterial } from './tls.js';

/** Limits of each HTTP/2 session (documented in docs/api.md "HTTP/2"). */
export const H2_LIMITS = {
  /** SETTINGS_MAX_CONCURRENT_STREAMS the server announces (Node's default is unlimited). */
  maxConcurrentStreams: 128,
  /** Buffered data per session in MB before new streams are refused with ENHANCE_YOUR_CALM (Node's default). */
  maxSessionMemory: 10,
  /** Streams the server itself may open towards the client (push is not used; Node's default). */
  peerMaxConcurrentStreams: 100,
} as const;

/** True for a request that arrived over HTTP/2. */
export function isHttp2(req: IncomingMessage | Http2ServerRequest): boolean {
  return req.httpVersionMajor === 2;
}

/**
 * `{connection: 'close'}` to add to an error answer over HTTP/1.1 (the client should not reuse a connection
 * whose request body was not read); nothing over HTTP/2, where the header is forbidden and a stream ends alone.
 */
export function connectionClose(req: IncomingMessage): Record<string, string> {
  return req.httpVersionMajor === 2 ? {} : { connection: 'close' };
}

/** The request's authority: the Host header, else HTTP/2's `:authority` pseudo-header. */
export function requestAuthority(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (host !== undefined) return host;
  const a = req.headers[':authority'];
  return typeof a === 'string' ? a : undefined;
}

/**
 * Whether a request has a body: Content-Length > 0 or Transfer-Encoding over HTTP/1.1; over HTTP/2 a stream
 * whose HEADERS frame did not end it (a body may come without Content-Length).
 */
export function hasRequestBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  if (req.httpVersionMajor === 2) {
    const stream = (req as unknown as Http2ServerRequest).stream as ServerHttp2Stream | undefined;
    // END_STREAM on the HEADERS frame = no body (a body that already arrived still counts: it is in req's buffer).
    return stream !== undefined && !stream.endAfterHeaders;
  }
  return req.headers['transfer-encoding'] !== undefined;
}

/** Live limits, read for every new session/request (a config reload applies to the next ones). */
export interface H2Policy {
  /** read_header_timeout_seconds in ms: a new session's first stream must open within it. */
  readHeaderTimeoutMs: number;
  /** request_timeout_seconds in ms: a request body must have arrived within it. */
  requestTimeoutMs: number;
}

/** Open HTTP/2 sessions and HTTP/1.1 (TLS) connections of one server, for a graceful stop. */
export class ConnectionTracker {
  readonly sessions = new Set<Http2Session>();
  readonly sockets = new Set<TLSSocket>();
  /** Sessions by negotiated protocol since start ("h2", "http/1.1"), for metrics and tests. */
  readonly negotiated = { h2: 0, 'http/1.1': 0 };
  private goingAway = false;

  /** Sends GOAWAY on every session (open streams finish, no new ones); new sessions get it at once. */
  goAway(): void {
    this.goingAway = true;
    for (const s of this.sessions) if (!s.closed && !s.destroyed) s.close();
  }

  /** Drops every session and connection still open. */
  destroyAll(): void {
    for (const s of this.sessions) s.destroy();
    for (const s of this.sockets) s.destroy();
  }

  get closing(): boolean {
    return this.goingAway;
  }
}

export interface TlsServerOptions {
  tls: TlsMaterial;
  timeouts: HttpServerTimeouts;
  policy: () => H2Policy;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Counts connections by negotiated protocol in `vantage_tls_connections_total{protocol}`. */
  registry?: Registry;
}

/**
 * The HTTPS server of the main port: HTTP/2 + HTTP/1.1 on one Http2SecureServer (allowHTTP1), with the
 * HTTP/1.1 timeouts set on it as on an https.Server, and session/stream limits for HTTP/2.
 */
export function createTlsServer(o: TlsServerOptions): { server: Http2SecureServer; tracker: ConnectionTracker } {
  const tracker = new ConnectionTracker();
  const connections = o.registry
    ? new Counter({ name: 'vantage_tls_connections_total', help: 'TLS connections by ALPN-negotiated protocol (h2 or http/1.1).', labelNames: ['protocol'], registers: [o.registry] })
    : null;
  const t = o.timeouts;
  const h2Handler = (req: Http2ServerRequest, res: Http2ServerResponse): void => {
    if (req.httpVersionMajor === 2) guardRequestBody(req, res, o.policy().requestTimeoutMs);
    o.handler(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  };
  const server = createSecureServer(
    {
      cert: o.tls.cert,
      key: o.tls.key,
      allowHTTP1: true,
      handshakeTimeout: t.handshakeTimeout,
      settings: { maxConcurrentStreams: H2_LIMITS.maxConcurrentStreams },
      maxSessionMemory: H2_LIMITS.maxSessionMemory,
      peerMaxConcurrentStreams: H2_LIMITS.peerMaxConcurrentStreams,
      Http1ServerResponse: VantageResponse as unknown as typeof ServerResponse,
    },
    h2Handler,
  );
  // The HTTP/1.1 fallback reads these from the server object like http.Server does (Node sets 60 s/300 s/30 s
  // defaults for allowHTTP1 and none for keepAliveTimeout/requireHostHeader). Node enforces header/request
  // timeouts on the fallback and has closeIdleConnections() on this server since 20.12 (engines: >=20.18.1).
  const h1 = server as unknown as HttpServerTimeouts;
  h1.requestTimeout = t.requestTimeout;
  h1.headersTimeout = t.headersTimeout;
  h1.keepAliveTimeout = t.keepAliveTimeout;
  h1.connectionsCheckingInterval = t.connectionsCheckingInterval;
  h1.requireHostHeader = t.requireHostHeader;

  server.on('secureConnection', (socket: TLSSocket) => {
    const protocol = socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1';
    tracker.negotiated[protocol] += 1;
    connections?.inc({ protocol });
    if (protocol === 'h2') return; // tracked as a session
    if (tracker.closing) {
      socket.destroy();
      return;
    }
    tracker.sockets.add(socket);
    socket.once('close', () => tracker.sockets.delete(socket));
  });
  server.on('session', (session: Http2Session) => {
    tracker.sessions.add(session);
    session.once('close', () => tracker.sessions.delete(session));
    if (tracker.closing) {
      session.close();
      return;
    }
    // Idle sessions live as long as idle HTTP/1.1 keep-alive connections (server.keepAliveTimeout, reloadable).
    watchSession(session, o.policy().readHeaderTimeoutMs, () => h1.keepAliveTimeout);
  });
  return { server, tracker };
}

/**
 * The first stream must open within the header timeout; once no stream is open, the session is closed after
 * the keep-alive timeout (GOAWAY, so a request racing it is refused cleanly and retried by the client).
 */
function watchSession(session: Http2Session, firstStreamMs: number, idleMs: () => number): void {
  let open = 0;
  let timer: NodeJS.Timeout | null = null;
  const arm = (ms: number) => {
    timer = setTimeout(() => {
      timer = null;
      if (open === 0 && !session.closed && !session.destroyed) session.close();
    }, ms);
    timer.unref();
  };
  arm(firstStreamMs);
  session.on('stream', (stream: ServerHttp2Stream) => {
    open += 1;
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    stream.once('close', () => {
      open -= 1;
      if (open === 0 && timer === null && !session.closed && !session.destroyed) arm(idleMs());
    });
  });
  session.once('close', () => {
    if (timer !== null) clearTimeout(timer);
  });
}

/**
 * request_timeout_seconds for an HTTP/2 request body (HTTP/1.1 has Node's requestTimeout): a body that has not
 * fully arrived in time gets 408 (when no answer has started) and the stream is reset.
 */
function guardRequestBody(req: Http2ServerRequest, res: Http2ServerResponse, ms: number): void {
  const stream = req.stream;
  if (stream.endAfterHeaders || stream.readableEnded) return;
  const timer = setTimeout(() => {
    if (stream.destroyed || stream.closed) return;
    if (res.writableEnded) stream.close(h2.NGHTTP2_NO_ERROR); // answered without reading it all
    else if (!res.headersSent) {
      sendJson(res as unknown as ServerResponse, 408, { error: `request body not received within ${ms / 1000} s (request_timeout_seconds)` });
      // Then stop the client's upload (RST_STREAM NO_ERROR after a complete answer, RFC 9113 §8.1).
      if (stream.writableFinished) stream.close(h2.NGHTTP2_NO_ERROR);
      else stream.once('finish', () => stream.close(h2.NGHTTP2_NO_ERROR));
    } else stream.close(h2.NGHTTP2_CANCEL);
  }, ms);
  timer.unref();
  const clear = () => clearTimeout(timer);
  stream.once('end', clear);
  stream.once('close', clear);
}

/** A connection over which the TLS handshake has not finished (a TLS error, not an HTTP one). */
export function handshakeUnfinished(socket: Duplex): boolean {
  const alpn = (socket as Partial<TLSSocket>).alpnProtocol;
  return 'encrypted' in socket && (alpn === null || alpn === undefined);
}
