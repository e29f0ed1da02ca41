import type { ServerConfig } from '../config/server.js';
import { compileCors, type CorsPolicy } from './stages/cors.js';
import type { FlatHeaders } from './response.js';
import { securityHeaders } from './security-headers.js';
import { compileCidrs, type CidrSet } from './ip.js';
import type { RateLimitSettings } from './stages/rate-limit.js';

/** The security-relevant parts of server.yml, compiled once per (re)load. Immutable; swapped whole on reload. */
export interface SecurityPolicy {
  /** null = no allow-list (`whitelisted_ips` empty): everyone may call the management API. */
  allowList: CidrSet | null;
  trustedProxies: CidrSet;
  rateLimit: RateLimitSettings;
  /** Requests authenticated with `server_key` skip the per-IP limit. */
  exemptAgents: boolean;
  cors: CorsPolicy;
  /** The security headers as one flat [name, value, …] list (for deferHeaders); empty when disabled. */
  headers: FlatHeaders;
  requestTimeoutMs: number;
  /** `read_header_timeout_seconds` in ms (capped at the request timeout). */
  readHeaderTimeoutMs: number;
  maxRequestBodyBytes: number;
  exitOnUnhandledRejection: boolean;
  /** Lower-cased `tier_header` ('' = none): its value is checked on proxied requests. */
  tierHeader: string;
}

export type SecurityConfig = Pick<
  ServerConfig,
  | 'whitelisted_ips'
  | 'trusted_proxies'
  | 'rate_limit_per_minute'
  | 'rate_limit_burst'
  | 'rate_limit_exempt_agents'
  | 'enable_cors'
  | 'cors_allowed_origins'
  | 'disable_security_headers'
  | 'request_timeout_seconds'
  | 'read_header_timeout_seconds'
  | 'max_request_body_bytes'
  | 'exit_on_unhandled_rejection'
  | 'tier_header'
  | 'sticky_header'
>;

/** The request headers Vantage itself reads, which CORS preflights always allow (empty names skipped). */
function corsAllowHeaders(c: Pick<SecurityConfig, 'sticky_header' | 'tier_header'>): string[] {
  return ['X-API-Key', 'Content-Type', c.sticky_header, c.tier_header];
}

/** Compiles the policy; throws InvalidCidrError naming the setting and entry when a CIDR is invalid. */
export function compileSecurityPolicy(c: SecurityConfig, opts: { https: boolean }): SecurityPolicy {
  return Object.freeze({
    allowList: c.whitelisted_ips.length > 0 ? compileCidrs(c.whitelisted_ips, 'whitelisted_ips') : null,
    trustedProxies: compileCidrs(c.trusted_proxies, 'trusted_proxies'),
    rateLimit: { perMinute: c.rate_limit_per_minute, burst: c.rate_limit_burst },
    exemptAgents: c.rate_limit_exempt_agents,
    cors: compileCors({ enabled: c.enable_cors, allowedOrigins: c.cors_allowed_origins, allowHeaders: corsAllowHeaders(c) }),
    headers: securityHeaders({ disabled: c.disable_security_headers, https: opts.https }),
    requestTimeoutMs: c.request_timeout_seconds * 1000,
    readHeaderTimeoutMs: Math.min(c.read_header_timeout_seconds, c.request_timeout_seconds) * 1000,
    maxRequestBodyBytes: c.max_request_body_bytes,
    exitOnUnhandledRejection: c.exit_on_unhandled_rejection,
    tierHeader: c.tier_header.toLowerCase(),
  });
}
