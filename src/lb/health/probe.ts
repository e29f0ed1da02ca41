import { connect as netConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Where a backend is probed, parsed once from its endpoint URL. */
export interface ProbeTarget {
  /** The URL as registered, e.g. "http://10.0.0.5:11000" or "https://host/base". */
  endpoint: string;
  host: string;
  port: number;
  /** scheme://host:port */
  origin: string;
  /** The endpoint's path without a trailing "/" ("" for none). */
  basePath: string;
}

export interface ProbeResult {
  ok: boolean;
  /** Connect time (tcp) or time to response headers (http), in ms; measured for failures too. */
  latencyMs: number;
  /** Why the probe failed (error code, "status 503", "timeout"). */
  error?: string;
}

/** Parses an endpoint URL into a probe target; null when it is not an http(s) URL. */
export function parseTarget(endpoint: string): ProbeTarget | null {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  const basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '');
  return { endpoint, host, port, origin: u.origin, basePath };
}

/** TCP probe: succeeds when a connection to host:port is established before the signal aborts. */
export function tcpProbe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    let done = false;
    const socket = netConnect({ host: target.host, port: target.port });
    const finish = (ok: boolean, error?: string) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(error === undefined ? { ok, latencyMs: performance.now() - start } : { ok, latencyMs: performance.now() - start, error });
    };
    const onAbort = () => finish(false, 'timeout');
    if (signal.aborted) return finish(false, 'timeout');
    signal.addEventListener('abort', onAbort);
    socket.once('connect', () => finish(true));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
  });
}

/**
 * HTTP probe: GET origin + basePath + path on a fresh connection (closed afterwards, so that an aborted probe
 * leaves nothing behind); succeeds on a 2xx/3xx status before the signal aborts. Latency is the time to the
 * response headers; the body is discarded.
 */
export function httpProbe(target: ProbeTarget, path: string, signal: AbortSignal, opts: { tlsInsecureSkipVerify?: boolean } = {}): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      req.destroy();
      resolve(r);
    };
    const tls = target.origin.startsWith('https:');
    const options = {
      host: target.host,
      port: target.port,
      path: target.basePath + path,
      method: 'GET',
      agent: false as const,
      signal,
      headers: { 'user-agent': 'vantage-health-check', connection: 'close' },
      rejectUnauthorized: !opts.tlsInsecureSkipVerify,
    };
    const req = tls ? httpsRequest(options) : httpRequest(options);
    req.on('response', (res) => {
      const latencyMs = performance.now() - start;
      const status = res.statusCode ?? 0;
      res.resume();
      const ok = status >= 200 && status < 400;
      finish(ok ? { ok, latencyMs } : { ok, latencyMs, error: `status ${status}` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      finish({ ok: false, latencyMs: performance.now() - start, error: signal.aborted ? 'timeout' : (err.code ?? err.message) });
    });
    req.end();
  });
}
