/** The tcp check type: up when a TCP connection to host:port is established. */
import { defineCheckType } from '../definition.js';
import { probeTcp } from './probe.js';
import { tcpOptions, tcpTarget } from './spec.js';

export const tcpCheck = defineCheckType({
  name: 'tcp',
  schemes: ['tcp'],
  assertionSubjects: ['response_time'],
  options: tcpOptions,
  targetErrorClass: 'connect',
  target: tcpTarget,
  probe: (spec, target, opts) => probeTcp(target.host, target.port, spec.timeout_ms, opts),
});
