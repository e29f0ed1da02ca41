import type { IncomingMessage } from 'node:http';
import { Agent } from 'undici';
import type { Logger } from '../../platform/log.js';
import { backgroundTimers, type Timers } from '../../platform/timers.js';
import { resolveClientIp } from '../../http/client-address.js';
import { compileCidrs } from '../../http/ip.js';
import type { HealthStatus, RouteDecision, RouteRequest } from '../routing/types.js';
import { parseTarget, type ProbeTarget } from '../health/probe.js';
import type { Inflight } from './inflight.js';
import type { ProxyMetrics, UpstreamErrorKind } from './metrics.js';
import { OutlierDetector } from './outlier.js';
import { heldCapacityJson, noCapacityMessage } from '../routing/summary.js';

/** The part of the routing engine the proxy uses. */
export interface ProxyEnginePort {
  route(req: RouteRequest): RouteDecision;
  release(reservationId: string): boolean;
  setHealth(clientId: string, status: HealthStatus, latencyMs?: number | null): void;
  tierNames(): string[];
  readonly defaultTier: string;
}

/** Resolved proxy settings (times in ms, header names in lower case). */
export interface ProxySettings {
  prefixes: readonly string[];
  tierField: string;
  /** Lower-case header name, '' = off. */
  tierHeader: string;
  /** Lower-case header name, '' = off. */
  stickyHeader: string;
  /** `sticky_by_ip`: a request without a sticky header value uses its client address as the sticky id. */
  stickyByIp: boolean;
  maxBodyBytes: number;
  /** Backend response-headers timeout (→ 504) and idle timeout of non-SSE response bodies. */
  timeoutMs: number;
  /** -1 = write-through, 0 = no explicit flushing, >0 = flush every n ms. */
  sseFlushIntervalMs: number;
  backendHeader: boolean;
  /** Consecutive failures before ejection, 0 = off. */
  outlierThreshold: number;
  healthEnabled: boolean;
  tlsInsecureSkipVerify: boolean;
  /** Retry-After seconds on 503. */
  retryAfterSeconds: number;
  /** `idle_timeout_seconds` in ms: a WebSocket tunnel without bytes moving either way this long is closed. */
  idleTimeoutMs: number;
  /**
   * Once one side of a WebSocket tunnel has ended (FIN) and its end was passed on, the other side gets this
   * long to end too; then both are closed (a backend that ignores the FIN would otherwise hold the tunnel open).
   */
  halfCloseTimeoutMs: number;
}

/** Default of ProxySettings.halfCloseTimeoutMs. */
export const WS_HALF_CLOSE_TIMEOUT_MS = 5_000;

export type Locate = (ip: string) => { lat: number; lon: number } | null;

/** A request's client address (the server resolves it through `trusted_proxies`). */
export type ClientIp = (req: IncomingMessage) => string;

const NO_PROXIES = compileCidrs([], 'trusted_proxies');
/** Without trusted proxies: the socket's peer, canonical. */
const peerIp: ClientIp = (req) => resolveClientIp(req.socket.remoteAddress, undefined, NO_PROXIES);

export type OkDecision = Extract<RouteDecision, { ok: true }>;
export type NoDecision = Extract<RouteDecision, { ok: false }>;

/** How a proxied request (HTTP or WebSocket) that got no backend is answered. */
export interface Refusal {
  status: number;
  message: string;
  extra: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Shared state of one proxy instance: engine, connection pool, outlier detector, in-flight set, metrics. */
export class ProxyCore {
  readonly agent: Agent;
  readonly outlier: OutlierDetector;
  draining = false;
  private readonly targets = new Map<string, ProbeTarget | null>();

  constructor(
    readonly engine: ProxyEnginePort,
    readonly settings: ProxySettings,
    readonly inflight: Inflight,
    readonly metrics: ProxyMetrics,
    readonly now: () => number,
    readonly logger?: Logger,
    readonly locate?: Locate,
    private readonly settle?: (req: RouteRequest, d: RouteDecision) => RouteDecision | Promise<RouteDecision>,
    readonly timers: Timers = backgroundTimers,
    private readonly clientIp: ClientIp = peerIp,
  ) {
    this.outlier = new OutlierDetector(settings.outlierThreshold);
    this.agent = new Agent({
      connect: { rejectUnauthorized: !settings.tlsInsecureSkipVerify },
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      pipelining: 1,
    });
  }

  /** The parsed endpoint URL (cached). */
  target(endpoint: string): ProbeTarget | null {
    let t = this.targets.get(endpoint);
    if (t === undefined) {
      t = parseTarget(endpoint);
      if (this.targets.size > 10_000) this.targets.clear();
      this.targets.set(endpoint, t);
    }
    return t;
  }

  /** The request's sticky id (from `sticky_header`; else, with `sticky_by_ip`, its client address), or null. */
  stickyIdOf(req: IncomingMessage): string | null {
    const name = this.settings.stickyHeader;
    if (name) {
      const h = req.headers[name];
      const v = Array.isArray(h) ? h[0] : h;
      if (v) return v;
    }
    return this.settings.stickyByIp ? this.clientIp(req) : null;
  }

  /**
   * Builds the routing request for a client request and asks the engine (pick + reserve). A request with a sticky
   * id keeps its reservation until the engine expires it (de-duplicated per (sticky_id, tier)); one without must
   * be released by the caller when its response ends.
   */
  route(req: IncomingMessage, tier: string | null, pathname: string, stickyId: string | null, exclude?: ReadonlySet<string>): RouteDecision | Promise<RouteDecision> {
    let lat: number | null = null;
    let lon: number | null = null;
    if (this.locate && req.socket.remoteAddress) {
      const loc = this.locate(req.socket.remoteAddress);
      if (loc) ({ lat, lon } = loc);
    }
    const rr: RouteRequest = { tier, stickyId, lat, lon, path: pathname, exclude };
    const d = this.engine.route(rr);
    if (!d.ok || stickyId === null || !this.settle) return d;
    // A new session's assignment is committed (one group commit per event-loop turn) and confirmed as the one
    // winner across replicas before the request goes out, as POST /route does (lb/sticky-settle.ts). A
    // confirmed assignment answers synchronously. Should the commit fail, this replica's own pick serves.
    const settled = this.settle(rr, d);
    if (!(settled instanceof Promise)) return settled;
    return settled.catch((err: unknown) => {
      this.logger?.error({ err, stickyId }, 'committing a new sticky assignment failed; the request goes to this replica\'s pick');
      return d;
    });
  }

  /** 400 for an unknown tier, 502 when a failed attempt left no other backend, else 503 with Retry-After. */
  refusal(d: NoDecision, attempt: number): Refusal {
    if (d.code === 'unknown_tier') return { status: 400, message: `unknown tier "${d.tier}"`, extra: { known_tiers: d.knownTiers } };
    if (attempt > 0) return { status: 502, message: 'backend unreachable and no other backend available', extra: { tier: d.tier } };
    const now = this.now();
    const extra: Record<string, unknown> = { tier: d.tier, reasons: d.reasons };
    if (d.held !== null) extra.held_by_reservations = heldCapacityJson(d.held, now);
    return {
      status: 503,
      message: noCapacityMessage(d, now),
      extra,
      headers: { 'retry-after': String(this.settings.retryAfterSeconds) },
    };
  }

  /** A backend answered (non-5xx): its failure streak ends. */
  success(clientId: string): void {
    this.outlier.success(clientId);
  }

  /** A backend failed (connect error, reset, timeout or 5xx); ejects it after the configured streak. */
  failure(clientId: string, kind: UpstreamErrorKind | '5xx'): void {
    if (kind !== '5xx') this.metrics.upstreamError(kind);
    if (!this.settings.healthEnabled) return; // nothing would ever bring an ejected backend back
    if (this.outlier.failure(clientId)) {
      this.engine.setHealth(clientId, 'unhealthy');
      this.metrics.ejection();
      this.logger?.warn(
        { clientId, consecutiveFailures: this.settings.outlierThreshold, last: kind },
        'backend ejected by passive outlier detection; the health checker brings it back',
      );
    }
  }
}
