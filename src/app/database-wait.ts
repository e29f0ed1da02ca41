/**
 * Opening the database at start-up. SQLite opens or fails at once. A PostgreSQL server that cannot be reached
 * (not up yet, restarting, a network hiccup) is retried with exponential backoff, each failure logged with the
 * host it tried; meanwhile a placeholder listener on the server's own address answers `GET /health` with 503
 * `{"status":"starting","reason":…}` (and everything else with 503), so a load balancer in front keeps the
 * replica out of rotation until it can serve. The placeholder closes just before the real server listens.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { isPostgresUrl, openStore, type OpenedStore, type StoreConfig } from '../store/index.js';
import { backgroundTimers, type Timers } from '../platform/timers.js';

export interface DatabaseWaitOptions {
  logger: Logger;
  now?: () => number;
  /** Where the placeholder listens while waiting (the server's host and port); null = no placeholder. */
  listen: { host: string; port: number } | null;
  /** First retry delay (default 500 ms); doubles up to maxDelayMs (default 10 s). */
  minDelayMs?: number;
  maxDelayMs?: number;
  timers?: Timers;
  /** Gives up (rejects) when aborted. */
  signal?: AbortSignal;
}

/** host:port of a postgres:// URL, without the credentials (for logs and /health). */
export function databaseHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}`;
  } catch {
    return 'the configured database';
  }
}

function startingServer(state: { reason: string }): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const body = path === '/health' ? { status: 'starting', reason: state.reason } : { error: `starting: ${state.reason}` };
    const text = JSON.stringify(body);
    res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'retry-after': '1', connection: 'close' });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
}

export async function openStoreWhenReachable(config: StoreConfig, opts: DatabaseWaitOptions): Promise<OpenedStore> {
  if (!isPostgresUrl(config.database)) return openStore(config, { logger: opts.logger, now: opts.now });
  const host = databaseHost(config.database);
  const timers = opts.timers ?? backgroundTimers;
  const state = { reason: `connecting to the database at ${host}` };
  let placeholder: Server | null = null;
  let delay = opts.minDelayMs ?? 500;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const store = await openStore(config, { logger: opts.logger, now: opts.now });
        if (attempt > 1) opts.logger.info({ database: host, attempts: attempt }, `connected to the database at ${host}`);
        return store;
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        const why = err instanceof Error ? err.message || (err as NodeJS.ErrnoException).code || err.name : String(err);
        state.reason = `database at ${host} not reachable: ${why}`;
        opts.logger.warn({ database: host, attempt, retry_in_ms: delay, err: why }, `database at ${host} not reachable (${why}); retrying in ${delay} ms`);
        if (placeholder === null && opts.listen !== null) placeholder = await listenPlaceholder(state, opts.listen, opts.logger);
        await new Promise<void>((resolve) => {
          const h = timers.setTimeout(resolve, delay);
          opts.signal?.addEventListener('abort', () => {
            timers.clearTimeout(h);
            resolve();
          }, { once: true });
        });
        if (opts.signal?.aborted) throw err;
        delay = Math.min(delay * 2, opts.maxDelayMs ?? 10_000);
      }
    }
  } finally {
    if (placeholder) await closePlaceholder(placeholder);
  }
}

async function listenPlaceholder(state: { reason: string }, at: { host: string; port: number }, logger: Logger): Promise<Server | null> {
  const srv = startingServer(state);
  try {
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(at.port, at.host, () => resolve());
    });
    return srv;
  } catch (err) {
    logger.warn({ err }, 'could not listen for /health while waiting for the database');
    return null;
  }
}

function closePlaceholder(srv: Server): Promise<void> {
  return new Promise((resolve) => {
    srv.close(() => resolve());
    srv.closeAllConnections();
  });
}
