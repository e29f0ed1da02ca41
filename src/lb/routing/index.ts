/** Public surface of the routing engine. */
export { RoutingEngine, LATENCY_EWMA_ALPHA } from './engine.js';
export { RTT_EWMA_ALPHA, RTT_EXPIRY_INTERVALS } from './latency-matrix.js';
export type { RttView } from './latency-matrix.js';
export { selectEndpoint } from './endpoints.js';
export { haversineKm, EARTH_RADIUS_KM } from './geo.js';
export { CORE_AVAILABLE_BELOW_PCT } from './filter.js';
export { GPU_WEIGHT } from './score.js';
export type * from './types.js';
