import type { RouteDecision } from '../routing/types.js';

type Picked = Extract<RouteDecision, { ok: true }>;

/** One backend's answer prefix, valid while the backend answers with the same client id and hostname. */
interface Prefix {
  clientId: string;
  hostname: string;
  text: string;
}

/** Most cached prefixes (one per backend endpoint in use); the cache starts over when full. */
export const MAX_PREFIXES = 4096;

/**
 * The JSON text of a successful /route answer: byte for byte `JSON.stringify` of the answer body built by
 * `answerFor` (same keys, same order), but the part that names the backend — `{"client_id":…,"endpoint":…,
 * "hostname":…,` — is serialised once per backend endpoint and reused. That part is most of the text, and
 * escaping it again on every request cost more than the routing decision.
 */
export class RouteAnswerJson {
  private readonly prefixes = new Map<string, Prefix>();

  text(d: Picked): string {
    let p = this.prefixes.get(d.endpoint);
    if (p === undefined || p.clientId !== d.clientId || p.hostname !== d.hostname) {
      if (p === undefined && this.prefixes.size >= MAX_PREFIXES) this.prefixes.clear();
      p = {
        clientId: d.clientId,
        hostname: d.hostname,
        text: `{"client_id":${JSON.stringify(d.clientId)},"endpoint":${JSON.stringify(d.endpoint)},"hostname":${JSON.stringify(d.hostname)},"reservation_id":`,
      };
      this.prefixes.set(d.endpoint, p);
    }
    let s = `${p.text}${JSON.stringify(d.reservationId)},"tier":${JSON.stringify(d.tier)},"sticky":${d.sticky ? 'true' : 'false'}`;
    if (d.distanceKm !== null) s += `,"distance_km":${JSON.stringify(d.distanceKm)}`;
    if (d.gpuDeviceIds.length > 0) s += `,"gpu_device_ids":${JSON.stringify(d.gpuDeviceIds)}`;
    return `${s}}`;
  }

  /** Cached prefixes (for tests). */
  get size(): number {
    return this.prefixes.size;
  }
}
