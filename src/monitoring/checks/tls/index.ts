/** The tls check type: a handshake, then the peer certificate's expiry, names and trust. */
import { defineCheckType } from '../definition.js';
import { probeTls } from './probe.js';
import { tlsOptions, tlsTarget } from './spec.js';

export const tlsCheck = defineCheckType({
  name: 'tls',
  schemes: ['tls'],
  assertionSubjects: ['response_time', 'cert_expires_in'],
  options: tlsOptions,
  targetErrorClass: 'connect',
  target: tlsTarget,
  probe: (spec, target, opts) =>
    probeTls({ host: target.host, port: target.port, timeoutMs: spec.timeout_ms, verify: spec.options.tls_verify, expectedSan: spec.options.expected_san }, opts),
});
