import type { Stage } from './pipeline.js';

/**
 * Pipeline slots filled by the hardening work (security headers, CORS, timeouts, IP allow-list, rate limit).
 * Each is optional; an empty slot costs nothing (compose() drops it). Provide them through
 * `StartServerOptions.slots`, or make the factories in this folder return stages.
 */
export interface PipelineSlots {
  /** Runs right after crash containment, for every request including /health. */
  securityHeaders?: Stage | null;
  /** After the body limit: whole-request timeout. */
  timeout?: Stage | null;
  /** After input validation, before the rate limit and the API key. */
  allowList?: Stage | null;
  /** After the allow-list, before the API key (so a flood of wrong keys is still limited). */
  rateLimit?: Stage | null;
  /** Replaces the built-in API-key stage (e.g. one that reads keys reloaded on SIGHUP); null = no key check. */
  apiKey?: Stage | null;
}
