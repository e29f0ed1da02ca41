import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { ProxyCore, OkDecision } from './core.js';
import type { RouteDecision } from '../routing/types.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js';
import type { Tracked } from './inflight.js';
import { originForm } from './prefixes.js';
import { sendJsonError } from './respond.js';
import { connectionClose } from '../../http/http2.js';
import { BodyTooLargeError, classifyUpstreamError } from './upstream-errors.js';

/** How a request body reaches the backend. */
export type ForwardBody =
  | { kind: 'none' }
  /** Fully read already (JSON bodies read for tier detection): can be re-sent on failover. */
  | { kind: 'buffer'; data: Buffer }
  /** Streamed from the client as it arrives; `limit` > 0 counts bytes of a chunked body against the limit. */
  | { kind: 'stream'; limit: number };

const SSE_BATCH_BYTES = 16 * 1024;

async function* limited(req: IncomingMessage, limit: number): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > limit) throw new BodyTooLargeError(limit);
    yield chunk;
  }
}

/**
 * One proxied HTTP exchange: forwards the client request through undici's pool (legacy dispatch-handler API,
 * the fastest path: no per-request stream objects) and streams the response back with backpressure both ways.
 *
 * - Failover: a connect error or reset before any response byte, with a body that is empty, buffered or not yet
 *   read, is retried once on the next-best backend (the failed one excluded); otherwise 502. Headers timeout → 504.
 * - The reservation of a request without a sticky id is released when the client response closes (finished or
 *   aborted); a sticky session's lives until the engine expires it.
 * - SSE responses are exempt from the idle timeout, never compressed, and flushed per `sseFlushIntervalMs`.
 */
export class HttpExchange implements Dispatcher.DispatchHandler, Tracked {
  kind: 'http' | 'sse' = 'http';
  lastActivity: number;
  idleTimeoutMs: number;
  private decision: OkDecision | null = null;
  private released = false;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private started = false;
  private closed = false;
  private attempt = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private sseBatching = false;
  private readonly upstreamHeaders: string[];
  private readonly stickyId: string | null;

  constructor(
    private readonly core: ProxyCore,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly pathname: string,
    private readonly tier: string | null,
    private readonly body: ForwardBody,
  ) {
    this.stickyId = core.stickyIdOf(req);
    this.lastActivity = core.now();
    // Waiting for response headers is undici's headersTimeout; the idle timeout starts with the response body.
    this.idleTimeoutMs = 0;
    const accept = req.headers.accept;
    this.upstreamHeaders = upstreamRequestHeaders(
      req.rawHeaders,
      { remoteAddress: req.socket.remoteAddress, proto: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http' },
      accept !== undefined && accept.includes('text/event-stream') ? { noCompression: true } : undefined,
    );
    core.inflight.add(this);
    res.on('close', this.onClientClose);
  }

  /** Routes and dispatches; answers 400/503 itself when the engine has no backend. */
  start(exclude?: ReadonlySet<string>): void {
    const routed = this.core.route(this.req, this.tier, this.pathname, this.stickyId, exclude);
    // A new session's pick waits for its sticky commit; a client gone meanwhile keeps nothing but the
    // assignment (a sticky reservation stays with its (sticky_id, tier) until the engine expires it).
    if (routed instanceof Promise) void routed.then((d) => (this.closed ? undefined : this.dispatch(d)));
    else this.dispatch(routed);
  }

  private dispatch(d: RouteDecision): void {
    if (!d.ok) {
      const r = this.core.refusal(d, this.attempt);
      sendJsonError(this.res, r.status, r.message, r.extra, r.headers);
      return;
    }
    this.decision = d;
    this.released = false;
    const target = this.core.target(d.endpoint);
    if (!target) {
      this.releaseReservation();
      sendJsonError(this.res, 502, `backend ${d.clientId} has an invalid endpoint URL`);
      return;
    }
    let body: Dispatcher.DispatchOptions['body'] = null;
    if (this.body.kind === 'buffer') body = this.body.data;
    else if (this.body.kind === 'stream') body = this.body.limit > 0 ? (limited(this.req, this.body.limit) as unknown as Readable) : this.req;
    this.core.agent.dispatch(
      {
        origin: target.origin,
        path: target.basePath + originForm(this.req.url ?? '/'),
        method: this.req.method ?? 'GET',
        headers: this.upstreamHeaders,
        body,
        headersTimeout: this.core.settings.timeoutMs,
        bodyTimeout: 0,
      },
      this,
    );
  }

  destroy(reason: string): void {
    this.abortUpstream?.(new Error(reason));
    if (!this.started && !this.res.headersSent) sendJsonError(this.res, 503, `proxy closed the request: ${reason}`, undefined, connectionClose(this.req));
    else this.res.destroy();
  }

  // ── undici dispatch handler ───────────────────────────────────────────────

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.closed) abort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.closed) return false;
    if (statusCode < 200) return true; // 1xx: Node answers 100-continue to the client itself
    const d = this.decision!;
    if (statusCode >= 500) this.core.failure(d.clientId, '5xx');
    else this.core.success(d.clientId);
    const { headers, sse } = downstreamResponseHeaders(rawHeaders, this.core.settings.backendHeader ? d.clientId : null);
    this.started = true;
    this.resumeUpstream = resume;
    this.lastActivity = this.core.now();
    const res = this.res;
    try {
      // HTTP/2 has no reason phrase (Node warns when one is given).
      if (statusText && this.req.httpVersionMajor !== 2) res.writeHead(statusCode, statusText, headers);
      else res.writeHead(statusCode, headers);
    } catch (err) {
      // e.g. a header value Node refuses to send
      this.started = false;
      this.abortUpstream?.();
      this.releaseReservation();
      sendJsonError(res, 502, `backend ${d.clientId} sent an invalid response: ${(err as Error).message}`);
      return false;
    }
    if (sse) {
      this.kind = 'sse';
      this.idleTimeoutMs = 0;
      res.flushHeaders();
      const every = this.core.settings.sseFlushIntervalMs;
      if (every > 0) {
        res.cork();
        this.flushTimer = setInterval(() => {
          if (res.writableCorked > 0) {
            res.uncork();
            res.cork();
          }
        }, every);
        this.flushTimer.unref();
      } else if (every === 0) {
        res.cork();
        this.sseBatching = true;
      }
    } else {
      this.idleTimeoutMs = this.core.settings.timeoutMs;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.closed) return false;
    this.lastActivity = this.core.now();
    const res = this.res;
    const ok = res.write(chunk);
    if (this.sseBatching && res.writableLength >= SSE_BATCH_BYTES) {
      res.uncork();
      res.cork();
    }
    if (!ok && !this.sseBatching) {
      res.once('drain', this.onClientDrain);
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.stopFlushing();
    if (!this.closed) this.res.end();
  }

  onError(err: Error): void {
    this.stopFlushing();
    if (this.closed || this.res.writableEnded) return;
    const res = this.res;
    if (this.started) {
      // The response is already under way: cut the client connection so the truncation is visible.
      const kind = classifyUpstreamError(err);
      if (this.decision && kind !== 'other') this.core.failure(this.decision.clientId, kind);
      res.destroy();
      return;
    }
    if (err instanceof BodyTooLargeError) {
      this.releaseReservation();
      sendJsonError(res, 413, err.message, undefined, connectionClose(this.req));
      return;
    }
    const kind = classifyUpstreamError(err);
    const d = this.decision!;
    if (kind !== 'other') this.core.failure(d.clientId, kind);
    if (kind === 'timeout') {
      this.releaseReservation();
      sendJsonError(res, 504, `backend ${d.clientId} did not answer within ${this.core.settings.timeoutMs} ms`);
      return;
    }
    if ((kind === 'connect' || kind === 'reset') && this.attempt === 0 && this.bodyReplayable() && !this.closed) {
      this.releaseReservation(true);
      this.attempt = 1;
      this.abortUpstream = null;
      this.core.metrics.retry();
      this.core.logger?.debug({ clientId: d.clientId, err: err.message }, 'proxy: retrying on another backend');
      this.start(new Set([d.clientId]));
      return;
    }
    this.releaseReservation();
    this.core.logger?.debug({ clientId: d.clientId, err: err.message }, 'proxy: bad gateway');
    sendJsonError(res, 502, `backend ${d.clientId} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
  }

  // ── helpers ───────────────────────────────────────────────────────────────

  private bodyReplayable(): boolean {
    if (this.body.kind !== 'stream') return true;
    return !this.req.readableDidRead;
  }

  private stopFlushing(): void {
    if (this.flushTimer) {
      clearInterval(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.res.writableCorked > 0) this.res.uncork();
    this.sseBatching = false;
  }

  /** Releases a non-sticky reservation (or any reservation with `force`, for a backend that just failed). */
  private releaseReservation(force = false): void {
    const d = this.decision;
    if (d && !this.released && (force || this.stickyId === null)) {
      this.released = true;
      this.core.engine.release(d.reservationId);
    }
  }

  private readonly onClientDrain = (): void => {
    this.resumeUpstream?.();
  };

  private readonly onClientClose = (): void => {
    this.closed = true;
    const res = this.res;
    const finished = res.writableFinished;
    if (!finished) this.abortUpstream?.();
    this.stopFlushing();
    this.releaseReservation();
    this.core.metrics.request(finished ? res.statusCode : 'aborted');
    this.core.inflight.delete(this);
  };
}
