import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../../config/server.js';
import type { Logger } from '../../platform/log.js';
import type { Timers } from '../../platform/timers.js';
import type { RouteDecision, RouteRequest } from '../routing/types.js';
import { ProxyCore, WS_HALF_CLOSE_TIMEOUT_MS, type ClientIp, type Locate, type ProxyEnginePort, type ProxySettings } from './core.js';
import { HttpExchange, type ForwardBody } from './forward.js';
import { Inflight } from './inflight.js';
import { createProxyMetrics } from './metrics.js';
import { compilePrefixes, pathOf } from './prefixes.js';
import { socketJsonError } from '../../http/raw-error.js';
import { sendJsonError } from './respond.js';
import { detectTier, isJsonContentType } from './tier.js';
import { WsExchange } from './websocket.js';
import { connectionClose, hasRequestBody } from '../../http/http2.js';

/** The built-in reverse proxy (seed "Application Integration / Option 1"). */
export interface Proxy {
  /** True when `proxy_endpoints` covers this path (the server asks after its management paths). */
  matches(pathname: string): boolean;
  /** Proxies one request. Never throws; answers errors as JSON itself. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Proxies an HTTP/1.1 Upgrade (WebSocket) request from the server's 'upgrade' event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Graceful drain: refuses new requests (503) and gives those in flight (incl. SSE/WebSocket) `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
  /** Closes everything now and the backend connection pool. */
  close(): Promise<void>;
  /** Proxied exchanges in flight. */
  inflight(): number;
  readonly settings: Readonly<ProxySettings>;
}

type ProxyConfig = Pick<
  ServerConfig,
  | 'proxy_endpoints'
  | 'proxy_sse_flush_interval_ms'
  | 'proxy_backend_header'
  | 'proxy_timeout_seconds'
  | 'request_timeout_seconds'
  | 'outlier_ejection_consecutive_failures'
  | 'tier_field_name'
  | 'tier_header'
  | 'sticky_header'
  | 'max_request_body_bytes'
  | 'tls_insecure_skip_verify'
  | 'health_check_enabled'
  | 'idle_timeout_seconds'
  | 'sticky_by_ip'
>;

/** Proxy settings from server.yml keys. */
export function proxySettingsFromConfig(c: ProxyConfig): ProxySettings {
  return {
    prefixes: c.proxy_endpoints,
    tierField: c.tier_field_name,
    tierHeader: c.tier_header.toLowerCase(),
    stickyHeader: c.sticky_header.toLowerCase(),
    stickyByIp: c.sticky_by_ip,
    maxBodyBytes: c.max_request_body_bytes,
    timeoutMs: (c.proxy_timeout_seconds > 0 ? c.proxy_timeout_seconds : c.request_timeout_seconds) * 1000,
    sseFlushIntervalMs: c.proxy_sse_flush_interval_ms,
    backendHeader: c.proxy_backend_header,
    outlierThreshold: c.outlier_ejection_consecutive_failures,
    healthEnabled: c.health_check_enabled,
    tlsInsecureSkipVerify: c.tls_insecure_skip_verify,
    retryAfterSeconds: 5,
    idleTimeoutMs: c.idle_timeout_seconds * 1000,
    halfCloseTimeoutMs: WS_HALF_CLOSE_TIMEOUT_MS,
  };
}

export interface ProxyContext {
  engine: ProxyEnginePort;
  logger?: Logger;
  registry?: Registry;
  /** ms clock (idle timeouts); default Date.now. */
  now?: () => number;
  /** Client IP → location for the distance term (GeoIP); default none. */
  locate?: Locate;
  /** Confirms a sticky pick as the one winner across replicas before the request goes out (lb/sticky-settle.ts). */
  settleSticky?: (req: RouteRequest, d: RouteDecision) => RouteDecision | Promise<RouteDecision>;
  /** Timers of the WebSocket half-close timeout; default real timers that do not hold the process open. */
  timers?: Timers;
  /** A request's client address (sticky_by_ip); default the socket's peer (no trusted proxies). */
  clientIp?: ClientIp;
}

export function createProxy(ctx: ProxyContext & { config: ProxyConfig }): Proxy {
  return createProxyWithSettings(proxySettingsFromConfig(ctx.config), ctx);
}

export function createProxyWithSettings(settings: ProxySettings, ctx: ProxyContext): Proxy {
  const now = ctx.now ?? Date.now;
  const matcher = compilePrefixes(settings.prefixes);
  const inflight = new Inflight();
  const metrics = createProxyMetrics(ctx.registry, inflight);
  const core = new ProxyCore(ctx.engine, settings, inflight, metrics, now, ctx.logger, ctx.locate, ctx.settleSticky, ctx.timers, ctx.clientIp);

  // Idle responses (proxy timeout) and idle tunnels (idle_timeout_seconds) are closed within a quarter of their timeout.
  const sweepEvery = Math.max(50, Math.min(1000, Math.floor(Math.min(settings.timeoutMs, settings.idleTimeoutMs) / 4)));
  const sweeper = setInterval(() => {
    const n = inflight.sweepIdle(now());
    if (n > 0) ctx.logger?.debug({ closed: n }, 'proxy: closed idle responses');
  }, sweepEvery);
  sweeper.unref();

  const tierHeaderOf = (req: IncomingMessage) => (settings.tierHeader ? req.headers[settings.tierHeader] : undefined);

  function forward(req: IncomingMessage, res: ServerResponse, pathname: string, url: string, body: ForwardBody, raw: Buffer | null): void {
    const { tier } = detectTier({ body: raw, tierField: settings.tierField, url, header: tierHeaderOf(req) });
    new HttpExchange(core, req, res, pathname, tier, body).start();
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      if (core.draining) {
        sendJsonError(res, 503, 'server is shutting down', undefined, { ...connectionClose(req), 'retry-after': String(settings.retryAfterSeconds) });
        return;
      }
      if (req.method === 'CONNECT') {
        sendJsonError(res, 405, 'CONNECT is not proxied');
        return;
      }
      const url = req.url ?? '/';
      const pathname = pathOf(url);
      const h = req.headers;
      const cl = h['content-length'];
      const te = h['transfer-encoding'];
      // HTTP/2 bodies have no Transfer-Encoding: a stream not ended by its HEADERS frame carries one.
      if (te === undefined && (cl === undefined || cl === '0') && (req.httpVersionMajor !== 2 || !hasRequestBody(req))) {
        forward(req, res, pathname, url, { kind: 'none' }, null);
        return;
      }
      if (cl !== undefined && Number(cl) > settings.maxBodyBytes) {
        sendJsonError(res, 413, `request body larger than ${settings.maxBodyBytes} bytes`, undefined, connectionClose(req));
        return;
      }
      if (settings.tierField && isJsonContentType(h['content-type'])) {
        readBody(req, res, settings.maxBodyBytes, (data) => forward(req, res, pathname, url, { kind: 'buffer', data }, data));
        return;
      }
      forward(req, res, pathname, url, { kind: 'stream', limit: cl === undefined ? settings.maxBodyBytes : 0 }, null);
    } catch (err) {
      ctx.logger?.error({ err }, 'proxy: unexpected error');
      if (!res.headersSent) sendJsonError(res, 500, 'internal proxy error');
      else res.destroy();
    }
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      if (core.draining) {
        socketJsonError(socket, 503, 'server is shutting down', undefined, { 'retry-after': String(settings.retryAfterSeconds) });
        return;
      }
      const url = req.url ?? '/';
      const { tier } = detectTier({ body: null, tierField: settings.tierField, url, header: tierHeaderOf(req) });
      new WsExchange(core, req, socket, head, pathOf(url), tier).start();
    } catch (err) {
      ctx.logger?.error({ err }, 'proxy: unexpected error on upgrade');
      socket.destroy();
    }
  }

  return {
    settings,
    matches: matcher,
    handle,
    handleUpgrade,
    inflight: () => inflight.size,
    async drain(timeoutMs: number) {
      core.draining = true;
      if (inflight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([inflight.whenEmpty(), new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, timeoutMs))))]);
        clearTimeout(timer);
        if (inflight.size > 0) {
          ctx.logger?.warn({ inflight: inflight.size }, 'proxy: closing requests still in flight after the shutdown timeout');
          inflight.destroyAll('shutdown');
        }
      }
    },
    async close() {
      core.draining = true;
      clearInterval(sweeper);
      inflight.destroyAll('shutdown');
      await core.agent.destroy().catch(() => {});
    },
  };
}

/** Reads a whole request body up to `limit` bytes (413 past it); nothing happens if the client goes away. */
function readBody(req: IncomingMessage, res: ServerResponse, limit: number, done: (data: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (c: Buffer) => {
    if (over) return;
    size += c.length;
    if (size > limit) {
      over = true;
      chunks.length = 0;
      sendJsonError(res, 413, `request body larger than ${limit} bytes`, undefined, connectionClose(req));
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (!over) done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
  req.on('error', () => {});
}
