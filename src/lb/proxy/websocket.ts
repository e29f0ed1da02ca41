import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { OkDecision, ProxyCore } from './core.js';
import type { RouteDecision } from '../routing/types.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js';
import type { Tracked } from './inflight.js';
import { originForm } from './prefixes.js';
import { socketJsonError } from '../../http/raw-error.js';
import { classifyUpstreamError } from './upstream-errors.js';

function timeoutError(): Error {
  return Object.assign(new Error('backend did not answer the upgrade in time'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
}

/**
 * One proxied WebSocket (or other HTTP/1.1 Upgrade): routes like any request (tier from query/header, sticky
 * header honoured), opens a fresh connection to the backend, relays the 101 answer and then tunnels bytes both
 * ways until either side closes (the other is then closed too). A non-101 answer is relayed as an ordinary
 * response. Connect errors fail over once; no answer within the timeout → 504. A non-sticky reservation is
 * released when the tunnel closes.
 *
 * A tunnel never outlives its peers: when one side ends its half (FIN), the end is passed on and the other
 * side gets `halfCloseTimeoutMs` to end too, then both are closed; and a tunnel with no byte moving either way
 * for `idleTimeoutMs` (`idle_timeout_seconds`) is closed by the proxy's idle sweep.
 */
export class WsExchange implements Tracked {
  readonly kind = 'ws' as const;
  lastActivity: number;
  idleTimeoutMs = 0;
  private decision: OkDecision | null = null;
  private released = false;
  private upstreamReq: ClientRequest | null = null;
  private upstreamSocket: Duplex | null = null;
  private attempt = 0;
  private finished = false;
  private status: number | 'aborted' = 'aborted';
  private readonly stickyId: string | null;
  private halfCloseTimer: unknown = null;

  constructor(
    private readonly core: ProxyCore,
    private readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly pathname: string,
    private readonly tier: string | null,
  ) {
    this.stickyId = core.stickyIdOf(req);
    this.lastActivity = core.now();
    core.inflight.add(this);
    socket.on('error', () => this.finish());
    socket.on('close', () => this.finish());
  }

  start(exclude?: ReadonlySet<string>): void {
    const routed = this.core.route(this.req, this.tier, this.pathname, this.stickyId, exclude);
    // A new session's pick waits for its sticky commit; a client gone meanwhile keeps nothing but the
    // assignment (a sticky reservation stays with its (sticky_id, tier) until the engine expires it).
    if (routed instanceof Promise) void routed.then((d) => (this.finished ? undefined : this.connect(d)));
    else this.connect(routed);
  }

  private connect(d: RouteDecision): void {
    if (!d.ok) {
      const r = this.core.refusal(d, this.attempt);
      this.fail(r.status, r.message, r.extra, r.headers);
      return;
    }
    this.decision = d;
    this.released = false;
    const target = this.core.target(d.endpoint);
    if (!target) {
      this.release();
      this.fail(502, `backend ${d.clientId} has an invalid endpoint URL`);
      return;
    }
    const tls = target.origin.startsWith('https:');
    const headers = upstreamRequestHeaders(
      this.req.rawHeaders,
      { remoteAddress: this.req.socket.remoteAddress, proto: (this.req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http' },
      { upgrade: true },
    );
    const options = {
      host: target.host,
      port: target.port,
      method: this.req.method ?? 'GET',
      path: target.basePath + originForm(this.req.url ?? '/'),
      headers,
      agent: false as const,
      rejectUnauthorized: !this.core.settings.tlsInsecureSkipVerify,
      servername: tls && !/^[\d.]+$|:/.test(target.host) ? target.host : undefined,
    };
    const ureq = tls ? httpsRequest(options) : httpRequest(options);
    this.upstreamReq = ureq;
    ureq.setTimeout(this.core.settings.timeoutMs, () => ureq.destroy(timeoutError()));
    ureq.on('upgrade', (ures: IncomingMessage, usock: Socket, uhead: Buffer) => this.onUpgrade(d, ures, usock, uhead));
    ureq.on('response', (ures: IncomingMessage) => this.onResponse(d, ures));
    ureq.on('error', (err) => this.onError(d, err));
    ureq.end();
  }

  destroy(): void {
    this.upstreamReq?.destroy();
    this.upstreamSocket?.destroy();
    this.socket.destroy();
    this.finish();
  }

  private onUpgrade(d: OkDecision, ures: IncomingMessage, usock: Socket, uhead: Buffer): void {
    this.upstreamReq = null;
    const client = this.socket;
    if (this.finished || client.destroyed) {
      usock.destroy();
      return;
    }
    this.core.success(d.clientId);
    this.status = 101;
    this.upstreamSocket = usock;
    usock.setTimeout(0);
    usock.setNoDelay(true);
    (client as Socket).setNoDelay?.(true);
    (client as Socket).setTimeout?.(0);
    const { headers } = downstreamResponseHeaders(ures.rawHeaders, this.core.settings.backendHeader ? d.clientId : null, true);
    let headText = `HTTP/1.1 ${ures.statusCode ?? 101} ${ures.statusMessage || 'Switching Protocols'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) headText += `${headers[i]}: ${headers[i + 1]}\r\n`;
    client.write(headText + '\r\n');
    if (uhead.length > 0) client.write(uhead);
    if (this.head.length > 0) usock.write(this.head);
    const touch = () => {
      this.lastActivity = this.core.now();
    };
    usock.on('data', touch);
    client.on('data', touch);
    usock.on('error', () => client.destroy());
    usock.on('close', () => client.destroy());
    client.on('close', () => usock.destroy());
    // pipe() passes a FIN on to the other side; that side must then end its half in time.
    const halfClosed = () => {
      if (this.halfCloseTimer !== null || this.finished) return;
      this.halfCloseTimer = this.core.timers.setTimeout(() => {
        this.halfCloseTimer = null;
        this.destroy();
      }, this.core.settings.halfCloseTimeoutMs);
    };
    usock.once('end', halfClosed);
    client.once('end', halfClosed);
    this.idleTimeoutMs = this.core.settings.idleTimeoutMs;
    usock.pipe(client);
    client.pipe(usock);
  }

  private onResponse(d: OkDecision, ures: IncomingMessage): void {
    this.upstreamReq = null;
    const status = ures.statusCode ?? 502;
    this.status = status;
    if (status >= 500) this.core.failure(d.clientId, '5xx');
    else this.core.success(d.clientId);
    const { headers } = downstreamResponseHeaders(ures.rawHeaders, this.core.settings.backendHeader ? d.clientId : null);
    let headText = `HTTP/1.1 ${status} ${ures.statusMessage || STATUS_CODES[status] || ''}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const lower = headers[i]!.toLowerCase();
      if (lower !== 'content-length') headText += `${headers[i]}: ${headers[i + 1]}\r\n`;
    }
    headText += 'connection: close\r\n\r\n';
    this.socket.write(headText);
    ures.pipe(this.socket);
    ures.on('error', () => this.socket.destroy());
  }

  private onError(d: OkDecision, err: Error): void {
    this.upstreamReq = null;
    if (this.finished) return;
    const kind = classifyUpstreamError(err);
    if (kind !== 'other') this.core.failure(d.clientId, kind);
    if (this.upstreamSocket) {
      this.socket.destroy();
      return;
    }
    if (kind === 'timeout') {
      this.release();
      this.fail(504, `backend ${d.clientId} did not answer within ${this.core.settings.timeoutMs} ms`);
      return;
    }
    if ((kind === 'connect' || kind === 'reset') && this.attempt === 0) {
      this.release(true);
      this.attempt = 1;
      this.core.metrics.retry();
      this.start(new Set([d.clientId]));
      return;
    }
    this.release();
    this.fail(502, `backend ${d.clientId} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
  }

  private fail(status: number, message: string, extra?: Record<string, unknown>, headers?: Record<string, string>): void {
    this.status = status;
    socketJsonError(this.socket, status, message, extra, headers);
  }

  private release(force = false): void {
    const d = this.decision;
    if (d && !this.released && (force || this.stickyId === null)) {
      this.released = true;
      this.core.engine.release(d.reservationId);
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.halfCloseTimer !== null) this.core.timers.clearTimeout(this.halfCloseTimer);
    this.upstreamReq?.destroy();
    this.upstreamSocket?.destroy();
    this.release();
    this.core.metrics.request(this.status);
    this.core.inflight.delete(this);
  }
}
