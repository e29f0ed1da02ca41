/** The worker API client: gRPC over HTTP/2 to `worker_url` (or a ready transport, for tests). */
import { createClient } from '@connectrpc/connect';
import type { Client, Transport } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { WorkerService } from '../../gen/vantage/v1/worker_pb.js';

export type WorkerClient = Client<typeof WorkerService>;

/** `worker_url`, or `server_url`'s scheme and host on port 8081. */
export function resolveWorkerUrl(cfg: { worker_url: string; server_url: string }): string {
  if (cfg.worker_url !== '') return cfg.worker_url.replace(/\/+$/, '');
  const u = new URL(cfg.server_url);
  u.port = '8081';
  return `${u.protocol}//${u.host}`;
}

/** An enrolled worker's PEM key, certificate and the worker CA it pins for the server. */
export interface WorkerTls {
  key: string;
  cert: string;
  ca: string;
}

/** The worker API URL with https:// (a certificate is only ever sent over TLS). */
export function httpsUrl(url: string): string {
  return url.replace(/^http:\/\//i, 'https://');
}

export function workerClient(cfg: { worker_url: string; server_url: string; insecure_tls: boolean }, transport?: Transport, tls?: WorkerTls): WorkerClient {
  const t =
    transport ??
    createGrpcTransport({
      baseUrl: tls ? httpsUrl(resolveWorkerUrl(cfg)) : resolveWorkerUrl(cfg),
      // With a certificate the server must present one from the pinned worker CA (never insecure_tls).
      nodeOptions: tls ? { key: tls.key, cert: tls.cert, ca: [tls.ca], rejectUnauthorized: true } : { rejectUnauthorized: !cfg.insecure_tls },
      pingIntervalMs: 15_000,
      pingTimeoutMs: 10_000,
    });
  return createClient(WorkerService, t);
}
