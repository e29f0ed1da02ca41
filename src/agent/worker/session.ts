/**
 * One stream to the worker API as the worker sees it: its outgoing queue, its abort, whether the register
 * response accepted it, and the messages the worker writes that belong to the stream itself (register, pong).
 */
import { create } from '@bufbuild/protobuf';
import { WorkerMessageSchema } from '../../gen/vantage/v1/worker_pb.js';
import type { Ping, Register, WorkerMessage } from '../../gen/vantage/v1/worker_pb.js';
import { AsyncQueue } from '../../platform/async-queue.js';
import { i64 } from './job.js';

export interface Session {
  out: AsyncQueue<WorkerMessage>;
  abort: AbortController;
  registered: boolean;
  /** half-closed by stop(): nothing more is written to it */
  draining: boolean;
  /** worker clock when the register message was queued (the first clock sample's t0) */
  registerSentAt: number;
}

export function newSession(now: number): Session {
  return { out: new AsyncQueue<WorkerMessage>(), abort: new AbortController(), registered: false, draining: false, registerSentAt: now };
}

/** Whether results, renewals and job requests can be written to the stream. */
export function writable(s: Session | null): s is Session {
  return s !== null && s.registered && !s.draining;
}

/** The register message's fields: workerId is '' on the first registration, then kept across reconnects. */
export type RegisterFields = Pick<Register, 'version' | 'region' | 'capabilities' | 'hostname' | 'workerId' | 'maxConcurrent'>;

export function registerMessage(f: RegisterFields): WorkerMessage {
  return create(WorkerMessageSchema, { msg: { case: 'register', value: f } });
}

/** The answer to a ping, sent at once with the worker's receive and send times. */
export function pongMessage(ping: Ping, receivedAt: number, sentAt: number): WorkerMessage {
  return create(WorkerMessageSchema, {
    msg: { case: 'pong', value: { pingSentAtMs: ping.sentAtMs, seq: ping.seq, receivedAtMs: i64(receivedAt), sentAtMs: i64(sentAt) } },
  });
}
