/** The Connect implementation of vantage.v1.WorkerService: one bidirectional stream per worker. */
import { Code, ConnectError, createContextKey, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import type { WorkerMessage } from '../../gen/vantage/v1/worker_pb.js';
import type { WorkerService } from '../../gen/vantage/v1/worker_pb.js';
import { AsyncQueue } from '../../platform/async-queue.js';
import type { WorkerTokenPrincipal } from '../../auth/worker-token.js';
import type { WorkerCertPrincipal } from '../../auth/worker-identity.js';
import type { PkiAuthority } from '../../pki/authority.js';
import { WorkerSession, type ServerMessageInit, type SessionDeps } from './session.js';

/** Who a stream belongs to (set per request by the server's authenticate), or why nobody. */
export type WorkerAuth = { ok: true; principal: WorkerTokenPrincipal | WorkerCertPrincipal } | { ok: false; message: string };

export const kWorkerIdentity = createContextKey<WorkerAuth>({ ok: false, message: 'worker token missing' });

export function createWorkerServiceImpl(
  deps: SessionDeps,
  onSession?: (s: WorkerSession) => void,
  authority?: PkiAuthority,
): ServiceImpl<typeof WorkerService> {
  return {
    async *connect(requests: AsyncIterable<WorkerMessage>, ctx: HandlerContext): AsyncIterable<ServerMessageInit> {
      const id = ctx.values.get(kWorkerIdentity);
      if (!id.ok) throw new ConnectError(id.message, Code.Unauthenticated);
      const p = id.principal;
      if (p.kind === 'worker-cert') {
        // Checked on every connection against the store: known to this CA, not revoked, not superseded.
        if (!authority) throw new ConnectError('client certificates are not accepted here', Code.Unauthenticated);
        const check = await authority.checkCert(p);
        if (!check.ok) throw new ConnectError(check.reason, Code.Unauthenticated);
      }
      const out = new AsyncQueue<ServerMessageInit>();
      const session = new WorkerSession(deps, out, (reason) => out.end(new ConnectError(reason, Code.Aborted)), p);
      onSession?.(session);
      const onAbort = (): void => session.close('client went away', false);
      ctx.signal.addEventListener('abort', onAbort);

      // Read inbound messages concurrently with writing outbound ones.
      const iterator = requests[Symbol.asyncIterator]();
      const reader = (async () => {
        try {
          while (!session.isClosed) {
            const next = await iterator.next();
            if (next.done) break;
            await session.handle(next.value);
          }
          session.endOfInput();
        } catch (err) {
          session.close(`stream error: ${(err as Error).message}`, false);
        }
      })();

      try {
        for await (const m of out) yield m;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        session.close('stream finished', false);
        void iterator.return?.();
        void reader;
      }
    },
  };
}
