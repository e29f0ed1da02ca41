/**
 * Enrollment on the worker API port (JSON over HTTPS): POST /v1/enroll {token, csr, region, hostname} needs no
 * client certificate; POST /v1/renew {csr} needs a valid, current client certificate from this CA; GET /v1/ca
 * returns the CA certificate. Bodies are validated with the zod schemas in src/pki/authority.ts.
 * No other PKI operation (listing workers, revoking, making tokens) is reachable over the network: those are
 * `vantage worker …` commands run where the server's database is.
 */
import type http2 from 'node:http2';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { z } from 'zod';
import { EnrollError, EnrollRequestSchema, RenewRequestSchema, type PkiAuthority } from '../../pki/authority.js';
import { peerCertOf } from '../../auth/worker-identity.js';

const MAX_BODY = 64 * 1024;

function send(res: http2.Http2ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function readJson(req: http2.Http2ServerRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new EnrollError(`body: larger than ${MAX_BODY} bytes`, 400));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch {
        reject(new EnrollError('body: expected a JSON object', 400));
      }
    });
    req.on('error', reject);
  });
}

function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || 'body';
  const message = issue.code === 'unrecognized_keys' ? `unexpected field(s) ${issue.keys.join(', ')}` : issue.message;
  throw new EnrollError(`${field}: ${message}`, 400);
}

/** Serves the route when `req` is one of them (returns true); false leaves the request to the Connect adapter. */
export function handleEnrollmentRoute(
  req: http2.Http2ServerRequest,
  res: http2.Http2ServerResponse,
  authority: PkiAuthority,
  socket: net.Socket | TLSSocket | undefined,
  encrypted: boolean,
): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (path !== '/v1/enroll' && path !== '/v1/renew' && path !== '/v1/ca') return false;
  void (async () => {
    try {
      if (!encrypted) throw new EnrollError('enrollment needs TLS: use https:// for the worker API', 400);
      if (path === '/v1/ca') {
        if (req.method !== 'GET') return send(res, 405, { error: 'GET only' });
        return send(res, 200, { ca: authority.ca.certPem, fingerprint: `sha256:${authority.caFingerprint}` });
      }
      if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
      if (path === '/v1/enroll') {
        const body = validate(EnrollRequestSchema, await readJson(req));
        return send(res, 200, await authority.enroll(body));
      }
      const peer = peerCertOf(socket as TLSSocket);
      if (!peer.ok) throw new EnrollError(peer.reason === 'none' ? 'renewal needs the current client certificate' : peer.reason, 401);
      const check = await authority.checkCert(peer.peer);
      if (!check.ok) throw new EnrollError(check.reason, 401);
      const body = validate(RenewRequestSchema, await readJson(req));
      return send(res, 200, await authority.renew(peer.peer, body));
    } catch (err) {
      if (err instanceof EnrollError) return send(res, err.status, { error: err.message });
      return send(res, 500, { error: 'internal error' });
    }
  })();
  return true;
}
