/**
 * Stream health: pure decisions (when to ping, when a pong is late, NTP-style clock offset) and the monitor
 * loop that applies them to the open worker streams. A stream whose pong is late is closed; its leases are left
 * to the reaper.
 */
import type { Logger } from 'pino';
import type { MonitoringMetrics } from './metrics.js';
import type { WorkerStreams } from './worker-streams.js';
import { PeriodicTask } from '../../platform/periodic.js';
import type { Timers } from '../../platform/timers.js';

export interface ClockEstimate {
  /** worker clock − server clock, ms. */
  offsetMs: number;
  /** Round-trip time without the worker's processing time, ms. */
  rttMs: number;
}

export interface StreamHealthState {
  connectedAt: number;
  lastPingSentAt: number | null;
  pending: { seq: number; sentAt: number } | null;
  lastPongAt: number | null;
  clock: ClockEstimate | null;
  nextSeq: number;
}

export interface StreamHealthConfig {
  pingIntervalMs: number;
  pongTimeoutMs: number;
}

export function newHealthState(now: number): StreamHealthState {
  return { connectedAt: now, lastPingSentAt: null, pending: null, lastPongAt: null, clock: null, nextSeq: 1 };
}

/**
 * 'close' when a ping has waited longer than the pong timeout; 'ping' when none is outstanding and the last one
 * (or the connection) is at least one ping interval old; otherwise 'none'.
 */
export function healthAction(s: StreamHealthState, now: number, cfg: StreamHealthConfig): 'ping' | 'close' | 'none' {
  if (s.pending) return now - s.pending.sentAt > cfg.pongTimeoutMs ? 'close' : 'none';
  const since = s.lastPingSentAt ?? s.connectedAt;
  return now - since >= cfg.pingIntervalMs ? 'ping' : 'none';
}

/** Marks a ping as sent and returns its sequence number. */
export function recordPing(s: StreamHealthState, now: number): number {
  const seq = s.nextSeq++;
  s.pending = { seq, sentAt: now };
  s.lastPingSentAt = now;
  return seq;
}

/**
 * NTP-style estimate from one exchange: t0 server send, t1 worker receive, t2 worker send, t3 server receive.
 * offset = ((t1 − t0) + (t2 − t3)) / 2, rtt = (t3 − t0) − (t2 − t1).
 */
export function estimateClock(t0: number, t1: number, t2: number, t3: number): ClockEstimate {
  return { offsetMs: (t1 - t0 + (t2 - t3)) / 2, rttMs: Math.max(0, t3 - t0 - (t2 - t1)) };
}

/**
 * Applies a pong. Returns false (and changes nothing) when it does not answer the outstanding ping.
 * Keeps the estimate from the exchange with the smallest RTT among the last ones (smoothed towards new ones).
 */
export function recordPong(s: StreamHealthState, pong: { seq: number; pingSentAt: number; receivedAt: number; sentAt: number }, now: number): boolean {
  if (!s.pending || pong.seq !== s.pending.seq || pong.pingSentAt !== s.pending.sentAt) return false;
  s.pending = null;
  s.lastPongAt = now;
  const est = estimateClock(pong.pingSentAt, pong.receivedAt, pong.sentAt, now);
  if (!s.clock || est.rttMs <= s.clock.rttMs * 1.5) s.clock = est;
  else s.clock = { offsetMs: s.clock.offsetMs, rttMs: (s.clock.rttMs + est.rttMs) / 2 };
  return true;
}

export class StreamHealthMonitor {
  private readonly loop = new PeriodicTask(() => this.tick(), { onError: (err) => this.d.logger?.error({ err }, 'stream health pass failed') });
  constructor(
    private readonly d: {
      streams: WorkerStreams;
      now: () => number;
      config: StreamHealthConfig;
      /** How often streams are examined (default: half the shorter of ping interval and pong timeout, ≤ 5 s). */
      checkIntervalMs?: number;
      logger?: Logger;
      metrics?: MonitoringMetrics;
    },
  ) {}

  /** One pass over the open streams; returns what it did. */
  tick(): { pinged: number; closed: number } {
    const now = this.d.now();
    let pinged = 0;
    let closed = 0;
    for (const link of this.d.streams.all()) {
      const action = healthAction(link.health, now, this.d.config);
      if (action === 'ping') {
        link.sendPing(recordPing(link.health, now), now);
        pinged++;
      } else if (action === 'close') {
        this.d.logger?.warn({ workerId: link.workerId }, 'worker stream: pong is late, closing the stream');
        this.d.metrics?.streamsClosed.inc({ reason: 'pong_timeout' });
        link.close('pong timeout');
        closed++;
      }
    }
    return { pinged, closed };
  }

  start(timers?: Timers): void {
    const every = this.d.checkIntervalMs ?? Math.max(10, Math.min(5_000, Math.min(this.d.config.pingIntervalMs, this.d.config.pongTimeoutMs) / 2));
    this.loop.start(every, timers);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
