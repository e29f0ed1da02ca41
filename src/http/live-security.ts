import type { IncomingMessage } from 'node:http';
import type { KeyChecker } from '../auth/api-key.js';
import type { SecurityPolicy } from './policy.js';
import type { TokenBucketLimiter } from './stages/rate-limit.js';

/**
 * The live hardening state the pipelines' stages read on every request (the SecurityRuntime implements it), so a
 * config reload (SIGHUP) applies to the next request without rebuilding a pipeline.
 */
export interface LiveSecurity {
  policy(): SecurityPolicy;
  /** The management API's per-IP limiter. */
  limiter(): TokenBucketLimiter;
  /** The limiter of proxied traffic (separate buckets from the management API's). */
  proxyRateLimiter(): TokenBucketLimiter;
  /** The X-API-Key checker of the current keys; null when no key is configured (auth off). */
  keys(): KeyChecker | null;
  /** True when the request carries `server_key` (an agent). */
  isAgent(req: IncomingMessage): boolean;
  /** Counters (prom-client or no-ops). */
  onRateLimited(pipeline: 'management' | 'proxy'): void;
  onDenied(reason: 'allow_list' | 'host'): void;
}
