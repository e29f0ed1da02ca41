import { Agent, request } from 'undici';

export interface TransportOptions {
  serverUrl: string;
  /** Sent as X-API-Key when non-empty. */
  serverKey: string;
  insecureTls: boolean;
  /** Whole-request timeout (connect + headers + body). */
  timeoutMs: number;
}

export interface TransportResponse {
  status: number;
  /** Parsed JSON body, or `undefined` when the body is not JSON. */
  body: unknown;
}

/** A request that got no HTTP answer: network error, TLS error or timeout. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'aborted',
  ) {
    super(message);
  }
}

export interface Transport {
  post(path: string, body: unknown, signal?: AbortSignal): Promise<TransportResponse>;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/** JSON-over-HTTP(S) client for the server's /register and /stats, with keep-alive. */
export function createTransport(opts: TransportOptions): Transport {
  const dispatcher = new Agent({
    connect: { rejectUnauthorized: !opts.insecureTls, timeout: opts.timeoutMs },
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    keepAliveTimeout: 30_000,
  });
  const base = opts.serverUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'vantage-agent' };
  if (opts.serverKey !== '') headers['x-api-key'] = opts.serverKey;

  return {
    async post(path, body, signal) {
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
      try {
        const res = await request(`${base}${path}`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          dispatcher,
          signal: combined,
        });
        const text = await res.body.text();
        let parsed: unknown;
        try {
          parsed = text.length > 0 && text.length <= MAX_BODY ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        return { status: res.statusCode, body: parsed };
      } catch (e) {
        if (signal?.aborted === true) throw new TransportError('request aborted', 'aborted');
        const err = e as Error & { code?: string };
        const timedOut =
          timeout.aborted ||
          err.code === 'UND_ERR_HEADERS_TIMEOUT' ||
          err.code === 'UND_ERR_BODY_TIMEOUT' ||
          err.code === 'UND_ERR_CONNECT_TIMEOUT';
        if (timedOut) throw new TransportError(`timed out after ${opts.timeoutMs} ms`, 'timeout');
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new TransportError(cause?.code ?? err.code ?? cause?.message ?? err.message, 'network');
      }
    },
    close: () => dispatcher.close(),
  };
}
