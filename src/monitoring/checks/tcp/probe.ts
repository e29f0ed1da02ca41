/**
 * TCP connect probe: up when the connection is established.
 * dns_ms from the socket's 'lookup' event (null for IP literals), connect_ms
 * from lookup (or start) to 'connect'.
 */
import { connect, isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { probeScaffold } from '../probe-scaffold.js';
import { ms } from '../types.js';
import type { ProbeOptions, ProbeOutcome } from '../types.js';

export function probeTcp(host: string, port: number, timeoutMs: number, opts: Pick<ProbeOptions, 'signal'>): Promise<ProbeOutcome> {
  return new Promise<ProbeOutcome>((resolve) => {
    let tLookup = NaN;
    const run = probeScaffold(
      {
        timeoutMs,
        signal: opts.signal,
        phase: isIP(host) === 0 ? 'dns' : 'connect',
        cleanup: () => sock.destroy(),
        onFail: (out) => {
          if (!Number.isNaN(tLookup)) out.dns_ms = ms(run.t0, tLookup);
        },
      },
      resolve,
    );
    const { out, t0 } = run;
    const sock = connect({ host, port });
    sock.once('lookup', (err: Error | null) => {
      tLookup = performance.now();
      if (!err) run.phase = 'connect';
    });
    sock.once('connect', () => {
      if (run.done) return;
      const t = performance.now();
      out.ok = true;
      out.dns_ms = Number.isNaN(tLookup) ? null : ms(t0, tLookup);
      out.connect_ms = ms(Number.isNaN(tLookup) ? t0 : tLookup, t);
      out.total_ms = ms(t0, t);
      run.finish();
    });
    sock.on('error', (err) => run.fail(err));
    run.start();
  });
}
