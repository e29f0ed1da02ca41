import { heldCapacityJson, noCapacityMessage } from '../routing/summary.js';
import type { ExplainRow, RouteDecision, RouteRequest } from '../routing/types.js';
import type { ApiDeps } from './deps.js';
import { HttpError, sendJson, sendJsonText } from '../../http/errors.js';
import type { Handler, RequestContext } from '../../http/pipeline.js';
import { parseBody } from '../../api/lb/parse-body.js';
import { ClientRegion, RouteBodySchema } from '../../api/lb/wire.js';
import { RouteAnswerJson } from './route-json.js';
import { settleSticky } from '../sticky-settle.js';

const MAX_STICKY_ID = 256;
/** Header naming the client's monitoring region when the body has no client_region. */
export const CLIENT_REGION_HEADER = 'x-client-region';

function regionFromHeader(ctx: RequestContext): string | null {
  const raw = ctx.req.headers[CLIENT_REGION_HEADER];
  const v = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (v === undefined || v === '') return null;
  const r = ClientRegion.safeParse(v);
  if (!r.success) throw new HttpError(400, `X-Client-Region: ${r.error.issues[0]!.message}`, { field: 'X-Client-Region' });
  return r.data;
}

/** True for `explain=1|true|yes` in the query string. */
export function wantsExplain(search: string): boolean {
  if (search === '') return false;
  const v = new URLSearchParams(search).get('explain');
  return v !== null && /^(1|true|yes|)$/i.test(v);
}

function stickyFromHeader(ctx: RequestContext, header: string | null): string | null {
  if (header === null) return null;
  const raw = ctx.req.headers[header];
  const v = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (v === undefined || v === '') return null;
  if (v.length > MAX_STICKY_ID) throw new HttpError(400, `${header}: longer than ${MAX_STICKY_ID} characters`, { field: header });
  return v;
}

/**
 * Builds the engine request from the validated body, the sticky header and GeoIP. The sticky id is the sticky
 * header's value, else the body's `sticky_id`, else (`sticky_by_ip`) the client address: the body's
 * `client_ip` (the end user the caller routes for), else the caller's own address (ctx.ip, resolved through
 * `trusted_proxies` by the allow-list stage).
 */
export function buildRouteRequest(d: ApiDeps, ctx: RequestContext): RouteRequest {
  const body = parseBody(RouteBodySchema, ctx.json ?? {});
  const byIp = d.stickyByIp ? body.client_ip || ctx.ip || null : null;
  const stickyId = stickyFromHeader(ctx, d.stickyHeader) ?? (body.sticky_id ? body.sticky_id : byIp);
  let lat = body.client_lat ?? null;
  let lon = body.client_lon ?? null;
  if ((lat === null || lon === null) && body.client_ip && d.geo !== null) {
    const loc = d.geo.locate(body.client_ip);
    if (loc) ({ lat, lon } = loc);
  }
  const region = body.client_region ? body.client_region : regionFromHeader(ctx);
  return { tier: body.tier ? body.tier : null, lat, lon, stickyId, path: body.path ? body.path : null, region };
}

export interface DecisionAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string | number>;
}

/**
 * The HTTP answer for an engine decision (the seed's fields plus reservation_id, tier and sticky). A 503 says
 * why nothing fits and, when live reservations hold the capacity, how many, when the earliest expires
 * (`now`: the engine's clock, ms) and how to release them (`held_by_reservations`).
 */
export function answerFor(decision: RouteDecision, retryAfterSeconds: number, now: number): DecisionAnswer {
  if (decision.ok) {
    const body: Record<string, unknown> = {
      client_id: decision.clientId,
      endpoint: decision.endpoint,
      hostname: decision.hostname,
      reservation_id: decision.reservationId,
      tier: decision.tier,
      sticky: decision.sticky,
    };
    if (decision.distanceKm !== null) body.distance_km = decision.distanceKm;
    if (decision.gpuDeviceIds.length > 0) body.gpu_device_ids = decision.gpuDeviceIds;
    return { status: 200, body };
  }
  if (decision.code === 'unknown_tier') {
    return {
      status: 400,
      body: {
        error: `unknown tier "${decision.tier}"; known tiers: ${decision.knownTiers.join(', ')}`,
        field: 'tier',
        known_tiers: decision.knownTiers,
      },
    };
  }
  const body: Record<string, unknown> = {
    error: noCapacityMessage(decision, now),
    tier: decision.tier,
    total_backends: decision.total,
    reasons: decision.reasons,
  };
  if (decision.held !== null) body.held_by_reservations = heldCapacityJson(decision.held, now);
  return { status: 503, headers: { 'retry-after': retryAfterSeconds }, body };
}

function explainRow(r: ExplainRow): Record<string, unknown> {
  const row: Record<string, unknown> = { client_id: r.clientId, hostname: r.hostname, eligible: r.eligible };
  if (r.reason !== undefined) row.reason = r.reason;
  if (r.detail !== undefined) row.detail = r.detail;
  if (r.terms !== undefined) {
    row.score = {
      distance_km: r.terms.distanceKm,
      cpu: r.terms.cpu,
      memory: r.terms.memory,
      gpu: r.terms.gpu,
      latency_ms: r.terms.latencyMs,
      total: r.terms.total,
    };
  }
  if (r.distance !== undefined) {
    row.distance = {
      source: r.distance.source,
      haversine_km: r.distance.haversineKm,
      measured_rtt_ms: r.distance.measuredRttMs,
      measured_age_ms: r.distance.measuredAgeMs,
      measured_samples: r.distance.measuredSamples,
    };
  }
  return row;
}

/**
 * POST /route: picks and reserves a backend in one step. `?explain=1` instead returns, per backend, why it
 * was filtered out or its score terms, plus the decision that would be taken (nothing is reserved).
 */
export function routeHandler(d: ApiDeps): Handler {
  const json = new RouteAnswerJson();
  const send = (ctx: RequestContext, decision: RouteDecision): void => {
    if (decision.ok) return sendJsonText(ctx.res, 200, json.text(decision));
    const answer = answerFor(decision, d.retryAfterSeconds, d.now());
    sendJson(ctx.res, answer.status, answer.body, answer.headers);
  };
  const handle: Handler = (ctx) => {
    const req = buildRouteRequest(d, ctx);
    if (wantsExplain(ctx.search)) {
      const ex = d.engine.explain(req);
      const answer = answerFor(ex.decision, d.retryAfterSeconds, d.now());
      if (!ex.decision.ok && ex.decision.code === 'unknown_tier') {
        sendJson(ctx.res, answer.status, answer.body);
        return;
      }
      sendJson(ctx.res, 200, {
        tier: ex.tier,
        routing_distance: ex.routingDistance,
        region: ex.region,
        decision: { status: answer.status, ...answer.body },
        backends: ex.rows.map(explainRow),
      });
      return;
    }
    const t0 = performance.now();
    const decision = d.engine.route(req);
    const seconds = (performance.now() - t0) / 1e3;
    const tier = decision.tier;
    const outcome = decision.ok ? (decision.sticky ? 'sticky' : 'ok') : decision.code;
    // Unknown tier names come from callers: do not let them grow the label set.
    d.metrics.route(decision.ok || decision.code !== 'unknown_tier' ? tier : '(unknown)', outcome, seconds);
    // A new (or moved) sticky assignment is acknowledged only once committed and confirmed as the one winner
    // (one shared transaction per event-loop turn); a confirmed one costs no database round trip.
    const settled = settleSticky(d, req, decision);
    if (!(settled instanceof Promise)) return send(ctx, settled);
    return settled.then((final) => send(ctx, final));
  };
  return (ctx) => (d.routeGate === null ? handle(ctx) : d.routeGate.then(() => handle(ctx)));
}

/** DELETE /reservations/{id}: releases a reservation early (404 when unknown or already expired). */
export function releaseHandler(d: ApiDeps, prefix: string): Handler {
  return (ctx) => {
    let id: string;
    try {
      id = decodeURIComponent(ctx.path.slice(prefix.length));
    } catch {
      throw new HttpError(400, 'reservation id: malformed percent-encoding', { field: 'reservation_id' });
    }
    if (id === '' || id.includes('/')) throw new HttpError(404, 'not found', { field: 'reservation_id' });
    if (!d.engine.release(id)) {
      throw new HttpError(404, `reservation "${id}" is unknown or already expired`, { field: 'reservation_id' });
    }
    sendJson(ctx.res, 200, { status: 'released', reservation_id: id });
  };
}
