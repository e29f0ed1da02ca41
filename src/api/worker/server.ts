/** The worker API server: Connect (gRPC, gRPC-Web and Connect protocols) over HTTP/2 on its own port. */
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { WorkerService } from '../../gen/vantage/v1/worker_pb.js';
import { identifyWorker, type WorkerAuthConfig } from '../../auth/worker-token.js';
import { createWorkerServiceImpl, kWorkerIdentity } from './service.js';
import type { SessionDeps, WorkerSession } from './session.js';

export interface WorkerApiOptions {
  host: string;
  port: number;
  auth: WorkerAuthConfig;
  /** PEM files; when both are set the port serves TLS (h2), otherwise cleartext HTTP/2 (h2c). */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  session: SessionDeps;
}

export interface WorkerApi {
  port: number;
  tls: boolean;
  close(): Promise<void>;
}

export async function startWorkerApi(o: WorkerApiOptions): Promise<WorkerApi> {
  const sessions = new Set<WorkerSession>();
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(
        WorkerService,
        createWorkerServiceImpl(o.session, (s) => {
          for (const old of sessions) if (old.isClosed) sessions.delete(old);
          sessions.add(s);
        }),
      ),
    contextValues: (req) => createContextValues().set(kWorkerIdentity, identifyWorker(req.headers, o.auth)),
  });
  const tls = Boolean(o.tlsCertFile && o.tlsKeyFile);
  const server = tls
    ? http2.createSecureServer({ cert: readFileSync(o.tlsCertFile!), key: readFileSync(o.tlsKeyFile!) }, handler)
    : http2.createServer(handler);
  const h2sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => {
    h2sessions.add(s);
    s.on('close', () => h2sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    tls,
    async close() {
      for (const s of sessions) s.close('server shutting down');
      sessions.clear();
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of h2sessions) s.close();
      const t = setTimeout(() => {
        for (const s of h2sessions) s.destroy();
      }, 2_000);
      await closed;
      clearTimeout(t);
    },
  };
}
