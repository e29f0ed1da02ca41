/**
 * TLS probe: handshake with the target, then report the peer certificate's
 * days to expiry, issuer, subject, SANs and whether it covers expected_san
 * (default: the host). Down (tls) when tls_verify is on and the chain or name
 * does not verify, or when expected_san is set and not covered.
 */
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect } from 'node:tls';
import { tlsDetails } from './cert.js';
import { probeScaffold } from '../probe-scaffold.js';
import { ms } from '../types.js';
import type { ProbeOptions, ProbeOutcome } from '../types.js';

export interface TlsProbeSpec {
  host: string;
  port: number;
  timeoutMs: number;
  verify: boolean;
  expectedSan: string | undefined;
}

export function probeTls(spec: TlsProbeSpec, opts: Pick<ProbeOptions, 'signal' | 'now'>): Promise<ProbeOutcome> {
  return new Promise<ProbeOutcome>((resolve) => {
    let tLookup = NaN;
    let tConnect = NaN;
    const run = probeScaffold(
      {
        timeoutMs: spec.timeoutMs,
        signal: opts.signal,
        phase: isIP(spec.host) === 0 ? 'dns' : 'connect',
        cleanup: (out) => {
          sock.destroy();
          if (out.tls) out.observation.cert_days_remaining = out.tls.days_remaining;
        },
        onFail: (out) => {
          if (!Number.isNaN(tLookup)) out.dns_ms = ms(run.t0, tLookup);
          if (!Number.isNaN(tConnect)) out.connect_ms = ms(Number.isNaN(tLookup) ? run.t0 : tLookup, tConnect);
        },
      },
      resolve,
    );
    const { out, t0 } = run;
    // Verification is decided here (not by rejecting the handshake) so an
    // untrusted or expired certificate is still reported in detail.
    const sock = connect({
      host: spec.host,
      port: spec.port,
      servername: isIP(spec.host) === 0 ? spec.host : undefined,
      rejectUnauthorized: false,
    });
    sock.once('lookup', (err: Error | null) => {
      tLookup = performance.now();
      if (!err) run.phase = 'connect';
    });
    sock.once('connect', () => {
      tConnect = performance.now();
      run.phase = 'tls';
    });
    sock.once('secureConnect', () => {
      if (run.done) return;
      const t = performance.now();
      out.dns_ms = Number.isNaN(tLookup) ? null : ms(t0, tLookup);
      out.connect_ms = Number.isNaN(tConnect) ? null : ms(Number.isNaN(tLookup) ? t0 : tLookup, tConnect);
      out.tls_ms = ms(Number.isNaN(tConnect) ? t0 : tConnect, t);
      out.total_ms = ms(t0, t);
      const details = tlsDetails(sock, spec.expectedSan ?? spec.host, opts.now());
      out.tls = details;
      if (details === null) {
        out.error = 'server sent no certificate';
        out.error_class = 'tls';
      } else if (spec.verify && !sock.authorized) {
        out.error = `certificate not trusted: ${details.authorization_error ?? 'unknown reason'}`;
        out.error_class = 'tls';
      } else if (spec.expectedSan !== undefined && !details.san_match) {
        out.error = `certificate does not cover ${spec.expectedSan} (SAN: ${details.san.join(', ') || 'none'})`;
        out.error_class = 'tls';
      } else {
        out.ok = true;
      }
      run.finish();
    });
    sock.on('error', (err) => run.fail(err));
    run.start();
  });
}
