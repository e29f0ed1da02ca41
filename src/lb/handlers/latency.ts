import type { ApiDeps } from './deps.js';
import { sendJson } from '../../http/errors.js';
import type { Handler } from '../../http/pipeline.js';

/**
 * GET /latency: the region × backend latency matrix the backend probes measured (fresh entries only, by
 * region then client id), the region locations requests are mapped by, and how /route uses them.
 */
export function latencyHandler(d: ApiDeps): Handler {
  return (ctx) => {
    const l = d.engine.latency;
    sendJson(ctx.res, 200, {
      routing_distance: l.mode,
      rtt_km_per_ms: l.kmPerMs,
      regions: l.regions(),
      matrix: l.entries().map((e) => ({ region: e.region, client_id: e.backendId, rtt_ms: e.rttMs, samples: e.samples, age_ms: e.ageMs })),
    });
  };
}
