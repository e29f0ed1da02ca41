/** The http check type: a request with phase timings; a status outside 200–399 is down unless asserted on. */
import { defineCheckType } from '../definition.js';
import { probeHttp } from './probe.js';
import { httpOptions, httpTarget } from './spec.js';

export const httpCheck = defineCheckType({
  name: 'http',
  schemes: ['http', 'https'],
  assertionSubjects: ['status', 'response_time', 'header', 'body', 'json', 'cert_expires_in'],
  options: httpOptions,
  targetErrorClass: 'connect',
  statusDecides: true,
  target: httpTarget,
  probe: (spec, target, opts) => probeHttp(spec, target.url, opts),
});
