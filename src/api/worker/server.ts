/**
 * The worker API server: Connect (gRPC, gRPC-Web and Connect protocols) over HTTP/2 on its own port.
 *
 * With PKI (`pki` set) the port serves TLS with a certificate the worker CA signed and asks every client for
 * a certificate: a worker stream needs one from this CA (mTLS), unless `worker_auth: both` also lets token
 * workers in (those may still connect in cleartext h2c, told apart by the first byte). The same port answers
 * enrollment (POST /v1/enroll, token + CSR, no client certificate), renewal (POST /v1/renew, client
 * certificate required) and GET /v1/ca. Open streams whose certificate is revoked or superseded are closed by
 * a periodic check (`revocationCheckMs`), on every replica, since each reads the shared store.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { WorkerService } from '../../gen/vantage/v1/worker_pb.js';
import { identifyWorker, isWorkerAuthOpen, type WorkerAuthConfig } from '../../auth/worker-token.js';
import { peerCertOf } from '../../auth/worker-identity.js';
import type { PkiAuthority } from '../../pki/authority.js';
import { createWorkerServiceImpl, kWorkerIdentity, type WorkerAuth } from './service.js';
import type { SessionDeps, WorkerSession } from './session.js';
import { handleEnrollmentRoute } from './enroll-routes.js';

/** The worker-authentication mode in force (config `worker_auth` after resolving `auto`). */
export type WorkerAuthMode = 'mtls' | 'both' | 'token' | 'none' | 'loopback';

export interface WorkerApiPki {
  authority: PkiAuthority;
  /** The worker API's certificate (signed by the CA) and key. */
  certPem: string;
  keyPem: string;
  revocationCheckMs: number;
}

export interface WorkerApiOptions {
  host: string;
  port: number;
  auth: WorkerAuthConfig;
  /** Default: 'token' when a token is configured, else open (the behaviour before PKI). */
  mode?: WorkerAuthMode;
  pki?: WorkerApiPki;
  /** PEM files; without PKI, when both are set the port serves TLS (h2), otherwise cleartext HTTP/2 (h2c). */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  session: SessionDeps;
}

export interface WorkerApi {
  port: number;
  tls: boolean;
  mode: WorkerAuthMode;
  /** Runs the revocation check of open streams now (the periodic one calls this too); returns streams closed. */
  checkRevocations(): Promise<number>;
  /** Serves a new server certificate (PKI only) to connections made from now on; open ones keep theirs. */
  setServerCert(pair: { certPem: string; keyPem: string }): void;
  close(): Promise<void>;
}

const isLoopback = (a: string): boolean => a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');

/** A Duplex over `socket` that first yields `first` (bytes already read to tell TLS from cleartext). */
function replaying(socket: net.Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  d.push(first);
  socket.on('data', (c: Buffer) => {
    if (!d.push(c)) socket.pause();
  });
  socket.on('end', () => d.push(null));
  socket.on('error', (err) => d.destroy(err));
  // The TLS or HTTP/2 layer on top learns that the peer is gone only from an end it has read or an error: a
  // plain destroy() would drop a pushed end unread and leave the session (and its worker's leases) open until a
  // missed ping. So a close before the end was read is passed on as a reset.
  socket.on('close', () => {
    if (d.destroyed) return;
    if (d.readableEnded) d.destroy();
    else d.destroy(Object.assign(new Error('connection closed by the peer'), { code: 'ECONNRESET' }));
  });
  return d;
}

function socketOf(req: http2.Http2ServerRequest): net.Socket | TLSSocket | undefined {
  return (req.stream?.session?.socket as net.Socket | undefined) ?? (req.socket as net.Socket | undefined);
}

/** Whether the request came over TLS (HTTP/2 session, or HTTP/1.1 over the same TLS port). */
function isEncrypted(req: http2.Http2ServerRequest): boolean {
  const session = req.stream?.session as (http2.ServerHttp2Session & { encrypted?: boolean }) | undefined;
  if (session) return session.encrypted === true;
  return (req.socket as TLSSocket | undefined)?.encrypted === true;
}

/** Who a request belongs to, by the mode: certificate, token, or (loopback / none) nobody in particular. */
function authenticate(req: http2.Http2ServerRequest, mode: WorkerAuthMode, o: WorkerApiOptions): WorkerAuth {
  const socket = socketOf(req);
  if (o.pki && isEncrypted(req)) {
    const peer = peerCertOf(socket as TLSSocket);
    if (peer.ok) return { ok: true, principal: { kind: 'worker-cert', ...peer.peer } };
    if (peer.reason !== 'none') return { ok: false, message: peer.reason };
  }
  if (mode === 'mtls') return { ok: false, message: 'client certificate required (worker_auth: mtls); enroll with `vantage agent enroll`' };
  if (mode === 'none') return { ok: true, principal: { kind: 'worker-token', via: 'open' } };
  if (mode === 'loopback') {
    const remote = socket?.remoteAddress ?? '';
    return isLoopback(remote)
      ? { ok: true, principal: { kind: 'worker-token', via: 'open' } }
      : { ok: false, message: 'worker API has no worker authentication configured: only loopback workers are accepted (set worker_auth: none to accept any)' };
  }
  if (isWorkerAuthOpen(o.auth)) return { ok: false, message: 'worker token missing' };
  const id = identifyWorker(req.headers, o.auth);
  if (!id.ok) return { ok: false, message: id.reason === 'missing' ? 'worker token missing' : 'worker token wrong' };
  return { ok: true, principal: { kind: 'worker-token', via: id.via } };
}

export async function startWorkerApi(o: WorkerApiOptions): Promise<WorkerApi> {
  const mode: WorkerAuthMode = o.mode ?? (isWorkerAuthOpen(o.auth) ? 'none' : 'token');
  if ((mode === 'mtls' || mode === 'both') && !o.pki) throw new Error(`worker_auth: ${mode} needs the worker CA (PKI), which is not available`);
  const sessions = new Set<WorkerSession>();
  const adapter = connectNodeAdapter({
    routes: (router) =>
      router.service(
        WorkerService,
        createWorkerServiceImpl(o.session, (s) => {
          for (const old of sessions) if (old.isClosed) sessions.delete(old);
          sessions.add(s);
        }, o.pki?.authority),
      ),
    contextValues: (req) => createContextValues().set(kWorkerIdentity, authenticate(req as unknown as http2.Http2ServerRequest, mode, o)),
  });
  const handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    if (o.pki && handleEnrollmentRoute(req, res, o.pki.authority, socketOf(req), isEncrypted(req))) return;
    adapter(req, res);
  };

  const h2sessions = new Set<http2.ServerHttp2Session>();
  const track = (s: http2.ServerHttp2Session): void => {
    h2sessions.add(s);
    s.on('close', () => h2sessions.delete(s));
  };
  let listener: net.Server;
  let tls: boolean;
  let secureServer: http2.Http2SecureServer | null = null;
  if (o.pki) {
    tls = true;
    const secure = http2.createSecureServer(
      { cert: o.pki.certPem + o.pki.authority.ca.certPem, key: o.pki.keyPem, ca: [o.pki.authority.ca.certPem], requestCert: true, rejectUnauthorized: false, allowHTTP1: true },
      handler,
    );
    secure.on('session', track);
    secureServer = secure;
    if (mode === 'mtls') listener = secure;
    else {
      const cleartext = http2.createServer(handler);
      cleartext.on('session', track);
      // One port, two protocols: a TLS ClientHello starts with 0x16; anything else is h2c (token workers only).
      // The first chunk is already read, so the connection is handed over as a stream that replays it.
      listener = net.createServer((socket) => {
        socket.once('data', (first: Buffer) => {
          const d = replaying(socket, first);
          (first[0] === 0x16 ? secure : cleartext).emit('connection', d);
        });
        socket.on('error', () => socket.destroy());
      });
    }
  } else {
    tls = Boolean(o.tlsCertFile && o.tlsKeyFile);
    const server = tls ? http2.createSecureServer({ cert: readFileSync(o.tlsCertFile!), key: readFileSync(o.tlsKeyFile!) }, handler) : http2.createServer(handler);
    server.on('session', track);
    listener = server;
  }
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(o.port, o.host, () => {
      listener.off('error', reject);
      resolve();
    });
  });

  const checkRevocations = async (): Promise<number> => {
    if (!o.pki) return 0;
    const open = [...sessions].filter((s) => !s.isClosed && s.certSerial !== '');
    if (open.length === 0) return 0;
    const bad = new Set(await o.pki.authority.invalidSerials(open.map((s) => s.certSerial)));
    let closed = 0;
    for (const s of open) {
      if (bad.has(s.certSerial)) {
        s.close('client certificate revoked or replaced');
        closed++;
      }
    }
    return closed;
  };
  const timer = o.pki
    ? setInterval(() => {
        checkRevocations().catch((err: unknown) => o.session.logger?.warn({ err }, 'revocation check failed'));
      }, o.pki.revocationCheckMs)
    : null;
  timer?.unref();

  return {
    port: (listener.address() as AddressInfo).port,
    tls,
    mode,
    checkRevocations,
    setServerCert(pair) {
      if (!secureServer || !o.pki) throw new Error('the worker API serves no worker-CA certificate (PKI is off)');
      const caPem = o.pki.authority.ca.certPem;
      secureServer.setSecureContext({ cert: pair.certPem + caPem, key: pair.keyPem, ca: [caPem] });
    },
    async close() {
      if (timer) clearInterval(timer);
      for (const s of sessions) s.close('server shutting down');
      sessions.clear();
      const closed = new Promise<void>((r) => listener.close(() => r()));
      for (const s of h2sessions) s.close();
      const t = setTimeout(() => {
        for (const s of h2sessions) s.destroy();
      }, 2_000);
      await closed;
      clearTimeout(t);
    },
  };
}
