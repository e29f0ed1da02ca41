/**
 * Worker authentication: the single place that decides who a worker stream belongs to.
 * Today: the cluster token or `server_key`, sent as `authorization: Bearer <token>`, `x-cluster-token` or
 * `x-api-key`, compared in constant time (safe-equal.ts). When neither is configured the worker API is open
 * (like the seed's empty server_key), and the server logs a warning at start. mTLS (PKI issue) will add a
 * worker-identity principal from the client certificate in its own file; callers do not change.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { safeEqual } from './safe-equal.js';

/** A worker stream authenticated by the shared worker token (or let in because none is configured). */
export interface WorkerTokenPrincipal {
  readonly kind: 'worker-token';
  readonly via: 'cluster_token' | 'server_key' | 'open';
}

declare module './principal.js' {
  interface PrincipalKinds {
    'worker-token': WorkerTokenPrincipal;
  }
}

export type WorkerIdentity = ({ ok: true } & WorkerTokenPrincipal) | { ok: false; reason: 'missing' | 'wrong' };

export interface WorkerAuthConfig {
  cluster_token: string;
  server_key: string;
}

function headerValue(h: IncomingHttpHeaders | Headers, name: string): string | undefined {
  if (h instanceof Headers) return h.get(name) ?? undefined;
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function presentedToken(h: IncomingHttpHeaders | Headers): string | undefined {
  const auth = headerValue(h, 'authorization');
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim();
  return headerValue(h, 'x-cluster-token') ?? headerValue(h, 'x-api-key');
}

export function isWorkerAuthOpen(cfg: WorkerAuthConfig): boolean {
  return cfg.cluster_token === '' && cfg.server_key === '';
}

const identity = (via: WorkerTokenPrincipal['via']): WorkerIdentity => ({ ok: true, kind: 'worker-token', via });

export function identifyWorker(h: IncomingHttpHeaders | Headers, cfg: WorkerAuthConfig): WorkerIdentity {
  if (isWorkerAuthOpen(cfg)) return identity('open');
  const token = presentedToken(h);
  if (token === undefined || token === '') return { ok: false, reason: 'missing' };
  // Evaluate both comparisons so timing does not reveal which secret matched.
  const cluster = cfg.cluster_token !== '' && safeEqual(token, cfg.cluster_token);
  const key = cfg.server_key !== '' && safeEqual(token, cfg.server_key);
  if (cluster) return identity('cluster_token');
  if (key) return identity('server_key');
  return { ok: false, reason: 'wrong' };
}
