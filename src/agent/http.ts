import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * Minimal HTTP(S) client on node:http. The agent uses this rather than undici: importing
 * undici costs about 11 MB of RSS in the agent process, a fifth of its memory budget.
 */
export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Aborts the request (connect, headers and body). */
  signal: AbortSignal;
  agent?: HttpAgent;
  /** Bodies longer than this are cut off (default 64 KiB). */
  maxBodyBytes?: number;
}

export interface HttpResponse {
  status: number;
  text: string;
}

export function createHttpAgent(url: string, opts: { insecureTls: boolean }): HttpAgent {
  const common = { keepAlive: true, keepAliveMsecs: 10_000, maxSockets: 4, maxFreeSockets: 1, timeout: 60_000 };
  return url.startsWith('https:') ? new HttpsAgent({ ...common, rejectUnauthorized: !opts.insecureTls }) : new HttpAgent(common);
}

export function httpFetch(r: HttpRequest): Promise<HttpResponse> {
  const max = r.maxBodyBytes ?? 64 * 1024;
  return new Promise<HttpResponse>((resolve, reject) => {
    if (r.signal.aborted) return reject(r.signal.reason);
    const url = new URL(r.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { ...r.headers };
    if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
    const req = send(url, { method: r.method, headers, agent: r.agent, signal: r.signal }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < max) chunks.push(c.subarray(0, max - size));
        size += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}
