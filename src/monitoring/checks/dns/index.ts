/** The dns check type: resolve a name; up when at least one record of the wanted type comes back. */
import { defineCheckType } from '../definition.js';
import { probeDns } from './probe.js';
import { dnsOptions, dnsTarget } from './spec.js';

export const dnsCheck = defineCheckType({
  name: 'dns',
  schemes: ['dns'],
  assertionSubjects: ['response_time', 'body', 'json'],
  options: dnsOptions,
  targetErrorClass: 'dns',
  target: dnsTarget,
  probe: (spec, target, opts) => probeDns(target.name, spec.options.record_type, spec.options.resolver, spec.timeout_ms, opts),
});
