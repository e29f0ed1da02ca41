/**
 * HTTP(S) probe with phase timings taken from socket events:
 *   dns      start → socket 'lookup'            (null for IP literals)
 *   connect  lookup (or start) → 'connect'
 *   tls      'connect' → 'secureConnect'        (null for http)
 *   ttfb     connection ready → first response bytes on the socket
 *   download first byte → response 'end'
 *   total    start → 'end' (across redirects when they are followed)
 * A fresh connection per check (agent: false), so every check measures DNS,
 * connect and TLS instead of reusing a warm socket.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import type { CheckSpec } from '../spec.js';
import { MAX_REDIRECTS } from './spec.js';
import type { HttpOptions } from './spec.js';
import { urlHost } from '../definition.js';
import { probeScaffold } from '../probe-scaffold.js';
import { tlsDetails } from '../tls/cert.js';
import { ms } from '../types.js';
import type { ProbeOptions, ProbeOutcome } from '../types.js';

/** Bodies are kept for assertions up to this size; size_bytes counts everything. */
export const MAX_BODY_BYTES = 1024 * 1024;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function probeHttp(spec: CheckSpec<HttpOptions>, url: URL, opts: ProbeOptions): Promise<ProbeOutcome> {
  return new Promise<ProbeOutcome>((resolve) => {
    let req: http.ClientRequest | null = null;
    const run = probeScaffold(
      {
        timeoutMs: spec.timeout_ms,
        signal: opts.signal,
        phase: 'connect',
        cleanup: (o) => {
          if (o.total_ms === 0) o.total_ms = ms(run.t0, performance.now());
        },
        onFail: () => req?.destroy(),
      },
      resolve,
    );
    const { out, t0 } = run;
    if (run.start()) return;

    let method = spec.method;
    let body: string | undefined = spec.body === '' ? undefined : spec.body;

    const hop = (u: URL, redirectsLeft: number): void => {
      const secure = u.protocol === 'https:';
      const mod = secure ? https : http;
      const host = urlHost(u);
      let tStart = performance.now();
      let tLookup = NaN;
      let tConnect = NaN;
      let tSecure = NaN;
      let tFirst = NaN;
      run.phase = isIP(host) === 0 ? 'dns' : 'connect';
      const headers: Record<string, string> = { 'user-agent': 'vantage-agent', ...spec.headers };
      if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const options: https.RequestOptions = {
        protocol: u.protocol,
        hostname: host,
        port: u.port === '' ? undefined : Number(u.port),
        path: `${u.pathname}${u.search}`,
        method,
        headers,
        agent: false,
      };
      if (secure) {
        options.rejectUnauthorized = spec.options.tls_verify;
        if (isIP(host) === 0) options.servername = host;
      }
      let r: http.ClientRequest;
      try {
        r = mod.request(options);
      } catch (e) {
        run.fail(e, 'http');
        return;
      }
      req = r;
      r.on('socket', (sock: Socket) => {
        tStart = performance.now();
        sock.once('lookup', (err: Error | null) => {
          tLookup = performance.now();
          if (!err) run.phase = 'connect';
        });
        sock.once('connect', () => {
          tConnect = performance.now();
          run.phase = secure ? 'tls' : 'http';
        });
        if (secure) {
          sock.once('secureConnect', () => {
            tSecure = performance.now();
            run.phase = 'http';
            if (opts.needCert) out.tls = tlsDetails(sock as TLSSocket, host, opts.now());
          });
        }
        sock.once('data', () => {
          if (Number.isNaN(tFirst)) tFirst = performance.now();
        });
      });
      r.on('error', (err) => {
        if (req === r) run.fail(err);
      });
      r.on('response', (res) => {
        res.on('error', (err) => {
          if (req === r) run.fail(err, 'http');
        });
        if (Number.isNaN(tFirst)) tFirst = performance.now();
        const code = res.statusCode ?? 0;
        const location = res.headers.location;
        if (spec.options.follow_redirects && REDIRECTS.has(code) && location !== undefined) {
          if (redirectsLeft <= 0) {
            run.fail(new Error(`more than ${MAX_REDIRECTS} redirects`), 'http');
            return;
          }
          let next: URL;
          try {
            next = new URL(location, u);
          } catch {
            run.fail(new Error(`invalid redirect location: ${location}`), 'http');
            return;
          }
          if (next.protocol !== 'http:' && next.protocol !== 'https:') {
            run.fail(new Error(`redirect to unsupported protocol ${next.protocol}`), 'http');
            return;
          }
          if (code === 303 || ((code === 301 || code === 302) && method === 'POST')) {
            method = 'GET';
            body = undefined;
          }
          // drain the redirect response, then follow it on a fresh connection
          res.on('end', () => {
            if (req !== r || run.done) return;
            r.destroy();
            hop(next, redirectsLeft - 1);
          });
          res.resume();
          return;
        }
        let size = 0;
        const chunks: Buffer[] | null = opts.needBody ? [] : null;
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (chunks !== null && kept < MAX_BODY_BYTES) {
            const take = chunk.length <= MAX_BODY_BYTES - kept ? chunk : chunk.subarray(0, MAX_BODY_BYTES - kept);
            chunks.push(take);
            kept += take.length;
          }
        });
        res.on('aborted', () => {
          if (req === r) run.fail(new Error('response aborted'), 'http');
        });
        res.on('end', () => {
          if (run.done) return;
          const tEnd = performance.now();
          const ready = secure ? tSecure : tConnect;
          out.ok = true;
          out.http_code = code;
          out.dns_ms = Number.isNaN(tLookup) ? null : ms(tStart, tLookup);
          out.connect_ms = Number.isNaN(tConnect) ? null : ms(Number.isNaN(tLookup) ? tStart : tLookup, tConnect);
          out.tls_ms = secure && !Number.isNaN(tSecure) ? ms(tConnect, tSecure) : null;
          out.ttfb_ms = Number.isNaN(ready) ? null : ms(ready, tFirst);
          out.download_ms = ms(tFirst, tEnd);
          out.total_ms = ms(t0, tEnd);
          out.size_bytes = size;
          out.observation.status_code = code;
          out.observation.headers = res.headers;
          if (chunks !== null) out.observation.body = Buffer.concat(chunks, kept).toString('utf8');
          if (out.tls) out.observation.cert_days_remaining = out.tls.days_remaining;
          r.destroy();
          run.finish();
        });
      });
      r.end(body);
    };

    hop(url, MAX_REDIRECTS);
  });
}
