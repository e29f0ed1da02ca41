import type { Logger } from 'pino';

/**
 * Config reload on SIGHUP: re-read server.yml, and apply it only if every component accepts it.
 *
 * Each reloadable component registers a `prepare(next, previous)` that validates/compiles what it needs and
 * returns a `commit()` that swaps it in (and must not throw). The reloader loads the new config, runs every
 * prepare, and only when all succeed runs every commit, so an invalid new config (bad YAML, a value out of
 * range, a CIDR that does not parse, a certificate file that does not match its key) is rejected with the reason
 * and the old configuration stays in force everywhere.
 *
 * Keys that cannot change without a restart (listening address, database, …: everything not in `liveKeys`) are
 * reported in the result and logged; the rest of the new config still applies.
 */
export interface Reloadable<C> {
  name: string;
  prepare(next: C, previous: C): () => void;
}

export type ReloadResult =
  | { ok: true; changed: string[]; restartRequired: string[] }
  | { ok: false; error: string; stage: 'load' | string };

export interface ConfigReloaderOptions<C> {
  /** Reads and validates the config file again (throws with the reason when invalid). */
  load: () => C;
  initial: C;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Keys applied without a restart; any other changed key is reported as needing one (default: all live). */
  liveKeys?: readonly string[];
}

/** server.yml keys that a SIGHUP reload applies to the running server; every other key needs a restart. */
export const SERVER_LIVE_KEYS: readonly string[] = [
  'tiers',
  'default_tier',
  'server_key',
  'api_keys',
  'whitelisted_ips',
  'trusted_proxies',
  'rate_limit_per_minute',
  'rate_limit_burst',
  'rate_limit_exempt_agents',
  'enable_cors',
  'cors_allowed_origins',
  'disable_security_headers',
  'request_timeout_seconds',
  'read_header_timeout_seconds',
  'log_level',
  'exit_on_unhandled_rejection',
  'tls_cert_file',
  'tls_key_file',
  'status_pages',
  'maintenance',
  'status_page_cache_seconds',
  'status_uptime_excludes_maintenance',
  'maintenance_retention_days',
];

export class ConfigReloader<C extends object> {
  private current: C;
  private readonly components: Reloadable<C>[] = [];
  private running = false;

  constructor(private readonly opts: ConfigReloaderOptions<C>) {
    this.current = opts.initial;
  }

  get config(): C {
    return this.current;
  }

  register(component: Reloadable<C>): void {
    this.components.push(component);
  }

  reload(): ReloadResult {
    if (this.running) return { ok: false, error: 'a reload is already in progress', stage: 'load' };
    this.running = true;
    try {
      return this.doReload();
    } finally {
      this.running = false;
    }
  }

  private doReload(): ReloadResult {
    const log = this.opts.logger;
    let next: C;
    try {
      next = this.opts.load();
    } catch (err) {
      const error = errorText(err);
      log.error({ reason: error }, `config reload rejected, keeping the running configuration: ${error}`);
      return { ok: false, error, stage: 'load' };
    }
    const previous = this.current;
    const commits: Array<() => void> = [];
    for (const c of this.components) {
      try {
        commits.push(c.prepare(next, previous));
      } catch (err) {
        const error = errorText(err);
        log.error({ reason: error, component: c.name }, `config reload rejected by ${c.name}, keeping the running configuration: ${error}`);
        return { ok: false, error, stage: c.name };
      }
    }
    for (const commit of commits) commit();
    this.current = next;
    const changed = changedKeys(previous, next);
    const live = this.opts.liveKeys ? new Set(this.opts.liveKeys) : null;
    const restartRequired = live === null ? [] : changed.filter((k) => !live.has(k));
    log.info({ changed }, changed.length ? `configuration reloaded: ${changed.join(', ')} changed` : 'configuration reloaded: no changes');
    if (restartRequired.length) {
      log.warn({ keys: restartRequired }, `configuration reload: ${restartRequired.join(', ')} only take effect after a restart`);
    }
    return { ok: true, changed, restartRequired };
  }
}

/** Top-level keys whose values differ (deep comparison of JSON values). */
export function changedKeys(a: object, b: object): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const k of keys) {
    if (JSON.stringify((a as Record<string, unknown>)[k]) !== JSON.stringify((b as Record<string, unknown>)[k])) out.push(k);
  }
  return out.sort();
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'issues' in err && Array.isArray((err as { issues: unknown }).issues)) {
    return ((err as { issues: string[] }).issues).join('; ');
  }
  return err instanceof Error ? err.message : String(err);
}

/**
 * Calls `reload` on every SIGHUP. Returns a function that removes the handler. `proc` is injectable for tests.
 */
export function onSighup(reload: () => unknown, proc: Pick<NodeJS.Process, 'on' | 'off'> = process): () => void {
  const handler = () => {
    reload();
  };
  proc.on('SIGHUP', handler);
  return () => {
    proc.off('SIGHUP', handler);
  };
}
