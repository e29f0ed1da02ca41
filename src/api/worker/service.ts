/** The Connect implementation of vantage.v1.WorkerService: one bidirectional stream per worker. */
import { Code, ConnectError, createContextKey, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import type { WorkerMessage } from '../../gen/vantage/v1/worker_pb.js';
import type { WorkerService } from '../../gen/vantage/v1/worker_pb.js';
import { AsyncQueue } from '../../platform/async-queue.js';
import type { WorkerIdentity } from '../../auth/worker-token.js';
import { WorkerSession, type ServerMessageInit, type SessionDeps } from './session.js';

/** Set per request by the adapter's contextValues from `identifyWorker`. */
export const kWorkerIdentity = createContextKey<WorkerIdentity>({ ok: false, reason: 'missing' });

export function createWorkerServiceImpl(deps: SessionDeps, onSession?: (s: WorkerSession) => void): ServiceImpl<typeof WorkerService> {
  return {
    async *connect(requests: AsyncIterable<WorkerMessage>, ctx: HandlerContext): AsyncIterable<ServerMessageInit> {
      const id = ctx.values.get(kWorkerIdentity);
      if (!id.ok) {
        throw new ConnectError(id.reason === 'missing' ? 'worker token missing' : 'worker token wrong', Code.Unauthenticated);
      }
      const out = new AsyncQueue<ServerMessageInit>();
      const session = new WorkerSession(deps, out, (reason) => out.end(new ConnectError(reason, Code.Aborted)));
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
