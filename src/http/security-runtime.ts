import type { IncomingMessage } from 'node:http';
import { Counter, type Registry } from 'prom-client';
import type { ServerConfig } from '../config/server.js';
import { createKeyChecker, type KeyChecker } from '../auth/api-key.js';
import type { LiveSecurity } from './live-security.js';
import { compileSecurityPolicy, type SecurityPolicy } from './policy.js';
import { TokenBucketLimiter } from './stages/rate-limit.js';
import type { Reloadable } from './reload.js';

export interface SecurityRuntimeOptions {
  config: ServerConfig;
  /** Serving HTTPS (adds HSTS). */
  https: boolean;
  registry?: Registry;
  now?: () => number;
  /** Most rate-limit buckets per limiter (default 100 000). */
  maxBuckets?: number;
  /** Sweep period of idle rate-limit buckets in ms (default 60 000; 0 = none). */
  sweepIntervalMs?: number;
  /** Called each time an X-API-Key is hashed and compared (not for a verdict remembered per connection). */
  onKeyVerify?: () => void;
}

/**
 * The live hardening state of a running server, read by the pipelines' stages (http/pipelines.ts) on every
 * request: the compiled security policy, the rate limiters (management and proxied traffic), the API keys and
 * the counters. `reloadable()` is the component the SIGHUP reloader calls to swap the policy, limits and keys.
 */
export class SecurityRuntime implements LiveSecurity {
  private current: SecurityPolicy;
  private apiKeys: KeyChecker | null;
  private agentKey: KeyChecker | null;
  private readonly mgmtLimiter: TokenBucketLimiter;
  private readonly proxyLimiter: TokenBucketLimiter;
  private readonly keyHooks: { onVerify?: () => void };
  private readonly sweeper: NodeJS.Timeout | null = null;
  private readonly rateLimited: Counter<'pipeline'> | null;
  private readonly denied: Counter<'reason'> | null;
  readonly unhandledRejections: Counter | null;
  readonly https: boolean;

  constructor(opts: SecurityRuntimeOptions) {
    this.https = opts.https;
    this.keyHooks = { onVerify: opts.onKeyVerify };
    this.current = compileSecurityPolicy(opts.config, { https: opts.https });
    this.apiKeys = createKeyChecker(opts.config, this.keyHooks);
    this.agentKey = createKeyChecker({ server_key: opts.config.server_key, api_keys: [] });
    const rl = { ...this.current.rateLimit, now: opts.now, maxBuckets: opts.maxBuckets };
    this.mgmtLimiter = new TokenBucketLimiter(rl);
    this.proxyLimiter = new TokenBucketLimiter(rl);
    const reg = opts.registry;
    this.rateLimited = reg ? new Counter({ name: 'vantage_rate_limited_total', help: 'Requests answered 429 by the per-IP rate limit.', labelNames: ['pipeline'], registers: [reg] }) : null;
    this.denied = reg ? new Counter({ name: 'vantage_requests_denied_total', help: 'Requests refused by the IP allow-list or Host validation.', labelNames: ['reason'], registers: [reg] }) : null;
    this.unhandledRejections = reg ? new Counter({ name: 'vantage_unhandled_rejections_total', help: 'Unhandled promise rejections (logged, not fatal unless exit_on_unhandled_rejection).', registers: [reg] }) : null;
    const every = opts.sweepIntervalMs ?? 60_000;
    if (every > 0) {
      this.sweeper = setInterval(() => {
        this.mgmtLimiter.sweep();
        this.proxyLimiter.sweep();
      }, every);
      this.sweeper.unref();
    }
  }

  // ------------------------------------------------------------------ LiveSecurity

  policy(): SecurityPolicy {
    return this.current;
  }

  limiter(): TokenBucketLimiter {
    return this.mgmtLimiter;
  }

  proxyRateLimiter(): TokenBucketLimiter {
    return this.proxyLimiter;
  }

  keys(): KeyChecker | null {
    return this.apiKeys;
  }

  isAgent(req: IncomingMessage): boolean {
    return this.agentKey !== null && this.agentKey(req.headers['x-api-key'], req.socket) === 'server';
  }

  onRateLimited(pipeline: 'management' | 'proxy'): void {
    this.rateLimited?.inc({ pipeline });
  }

  onDenied(reason: 'allow_list' | 'host'): void {
    this.denied?.inc({ reason });
  }

  /** Whether an X-API-Key is currently required (for the startup summary). */
  authEnabled(): boolean {
    return this.apiKeys !== null;
  }

  // ------------------------------------------------------------------ reload

  /** The reload component: compiles the new policy (throws naming the setting when invalid), then swaps. */
  reloadable(): Reloadable<ServerConfig> {
    return {
      name: 'security',
      prepare: (next) => {
        const policy = compileSecurityPolicy(next, { https: this.https });
        const keys = createKeyChecker(next, this.keyHooks);
        const agentKey = createKeyChecker({ server_key: next.server_key, api_keys: [] });
        return () => {
          this.current = policy;
          this.apiKeys = keys;
          this.agentKey = agentKey;
          this.mgmtLimiter.reconfigure(policy.rateLimit);
          this.proxyLimiter.reconfigure(policy.rateLimit);
        };
      },
    };
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }
}
