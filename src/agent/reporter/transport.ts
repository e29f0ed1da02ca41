import { createHttpAgent, httpFetch } from '../http.js';

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

/** JSON-over-HTTP(S) client for the server's /register and /stats, with keep-alive. */
export function createTransport(opts: TransportOptions): Transport {
  const base = opts.serverUrl.replace(/\/+$/, '');
  const agent = createHttpAgent(base, { insecureTls: opts.insecureTls });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'vantage-agent' };
  if (opts.serverKey !== '') headers['x-api-key'] = opts.serverKey;

  return {
    async post(path, body, signal) {
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
      try {
        const res = await httpFetch({ url: `${base}${path}`, method: 'POST', headers, body: JSON.stringify(body), signal: combined, agent });
        let parsed: unknown;
        try {
          parsed = res.text.length > 0 ? JSON.parse(res.text) : undefined;
        } catch {
          parsed = undefined;
        }
        return { status: res.status, body: parsed };
      } catch (e) {
        if (signal?.aborted === true) throw new TransportError('request aborted', 'aborted');
        if (timeout.aborted) throw new TransportError(`timed out after ${opts.timeoutMs} ms`, 'timeout');
        const err = e as Error & { code?: string };
        throw new TransportError(err.code ?? err.message, 'network');
      }
    },
    close: async () => agent.destroy(),
  };
}
