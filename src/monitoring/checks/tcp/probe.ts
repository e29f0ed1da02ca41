/**
 * TCP connect probe: up when the connection is established.
 * dns_ms from the socket's 'lookup' event (null for IP literals), connect_ms
 * from lookup (or start) to 'connect'.
 */
import { connect, isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { CheckTimeoutError, classifyError, errorMessage } from '../errors.js';
import type { Phase } from '../errors.js';
import { emptyOutcome, ms } from '../types.js';
import type { ProbeOptions, ProbeOutcome } from '../types.js';

export function probeTcp(host: string, port: number, timeoutMs: number, opts: Pick<ProbeOptions, 'signal'>): Promise<ProbeOutcome> {
  return new Promise<ProbeOutcome>((resolve) => {
    const out = emptyOutcome();
    const t0 = performance.now();
    let tLookup = NaN;
    let phase: Phase = isIP(host) === 0 ? 'dns' : 'connect';
    let done = false;
    const sock = connect({ host, port });
    const finish = (): void => {
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      out.observation.response_time_ms = out.total_ms;
      resolve(out);
    };
    const fail = (err: unknown, cls = classifyError(err, phase)): void => {
      if (done) return;
      out.error = errorMessage(err);
      out.error_class = cls;
      out.total_ms = ms(t0, performance.now());
      if (!Number.isNaN(tLookup)) out.dns_ms = ms(t0, tLookup);
      finish();
    };
    const timer = setTimeout(() => fail(new CheckTimeoutError(timeoutMs), 'timeout'), timeoutMs);
    const onAbort = (): void => fail(new Error('check aborted'), 'timeout');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('lookup', (err: Error | null) => {
      tLookup = performance.now();
      if (!err) phase = 'connect';
    });
    sock.once('connect', () => {
      if (done) return;
      const t = performance.now();
      out.ok = true;
      out.dns_ms = Number.isNaN(tLookup) ? null : ms(t0, tLookup);
      out.connect_ms = ms(Number.isNaN(tLookup) ? t0 : tLookup, t);
      out.total_ms = ms(t0, t);
      finish();
    });
    sock.on('error', (err) => fail(err));
    if (opts.signal?.aborted) onAbort();
  });
}
