/**
 * Adding a check type is a definition plus a registry line: a fake type registered at test time is accepted
 * by the web API's validation, stored, leased to a real agent worker (which declares it), probed, ingested
 * and rolled up, with nothing else edited.
 */
import pino from 'pino';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { startMonitoringWorker } from '../../src/agent/worker/worker.js';
import type { MonitoringWorker } from '../../src/agent/worker/worker.js';
import { validateMonitorInput } from '../../src/api/web/validation.js';
import { defineCheckType } from '../../src/monitoring/checks/definition.js';
import { checkSpecSchema, checkTypeForUrl, checkTypeNames, registerCheckType } from '../../src/monitoring/checks/registry.js';
import { emptyOutcome } from '../../src/monitoring/checks/types.js';
import { waitFor } from '../monitoring/helpers.js';
import { startControlPlane, type ControlPlane } from './helpers/control-plane.js';

const probed: string[] = [];

/** fake://name: up unless options.fake_answer is 'down'; "measures" 7 ms. */
const fakeCheck = defineCheckType({
  name: 'fake',
  schemes: ['fake'],
  assertionSubjects: ['response_time'],
  options: { fake_answer: z.enum(['up', 'down']).default('up') },
  targetErrorClass: 'connect',
  target(u: URL) {
    if (u.protocol !== 'fake:' || u.hostname === '') throw new Error('fake checks need a fake://name URL');
    return { type: 'fake' as const, name: u.hostname };
  },
  probe(spec, target) {
    probed.push(target.name);
    const out = emptyOutcome();
    out.total_ms = 7;
    out.observation.response_time_ms = 7;
    if (spec.options.fake_answer === 'up') out.ok = true;
    else {
      out.error = `${target.name} answered down`;
      out.error_class = 'connect';
    }
    return Promise.resolve(out);
  },
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
  probed.length = 0;
});

describe('a check type added the registry way', () => {
  it('registers and undoes: the spec schema accepts the type and its option only while registered', () => {
    const input = { type: 'fake', url: 'fake://svc', options: { fake_answer: 'down' } };
    expect(checkSpecSchema().safeParse(input).success).toBe(false);
    const undo = registerCheckType(fakeCheck);
    expect(checkTypeNames()).toEqual(['http', 'tcp', 'dns', 'tls', 'fake']);
    expect(checkSpecSchema().parse(input)).toMatchObject({ type: 'fake', options: { fake_answer: 'down', follow_redirects: false, record_type: 'A' } });
    expect(checkSpecSchema().safeParse({ ...input, url: 'http://svc/' }).error?.issues[0]?.message).toBe('fake checks need a fake://name URL');
    expect(() => registerCheckType(fakeCheck)).toThrow(/already registered/);
    undo();
    expect(checkTypeNames()).toEqual(['http', 'tcp', 'dns', 'tls']);
    expect(checkSpecSchema().safeParse(input).success).toBe(false);
  });

  it('a registered type\'s schemes and assertion subjects drive monitor validation', () => {
    const undo = registerCheckType(fakeCheck);
    try {
      expect(checkTypeForUrl('fake://svc')).toBe('fake');
      const ok = validateMonitorInput({ url: 'fake://svc', assertions: ['response_time < 100'] });
      expect(ok.ok && ok.spec.type).toBe('fake');
      expect(validateMonitorInput({ url: 'fake://svc', assertions: ['body contains "x"'] })).toEqual({
        ok: false,
        error: 'assertions[0] "body contains \\"x\\"": a fake check cannot produce body; fake supports response_time',
      });
    } finally {
      undo();
    }
    expect(checkTypeForUrl('fake://svc')).toBeUndefined();
  });

  it('runs end to end: web API validation → store → lease to a real worker → fake probe → ingest → rollup', async () => {
    cleanups.push(registerCheckType(fakeCheck));
    const cp: ControlPlane = await startControlPlane();
    cleanups.push(() => cp.stop());

    const v = validateMonitorInput({ name: 'fake one', type: 'fake', url: 'fake://svc-a', interval_ms: 10_000, options_json: '{"fake_answer":"up"}' });
    if (!v.ok) throw new Error(v.error);
    expect(v.spec.options).toMatchObject({ fake_answer: 'up' });
    const now = Date.now();
    await cp.mon.store.createMonitor(v.spec, { id: 'mon_fake', actor: 't', now, jitterSeed: 1 });

    const worker: MonitoringWorker = startMonitoringWorker(
      {
        server_url: 'http://127.0.0.1:1',
        server_key: '',
        worker_url: cp.workerUrl,
        region: 'global',
        max_concurrent_checks: 2,
        monitoring_enabled: true,
        cluster_token: cp.token,
        insecure_tls: false,
      },
      { logger: pino({ level: 'silent' }), prefetch: 2 },
    );
    cleanups.push(() => worker.stop({ graceMs: 500 }));

    const [result] = await waitFor(async () => {
      const rs = await cp.mon.store.listResults({ monitorId: 'mon_fake', limit: 10 });
      return rs.length > 0 ? rs : null;
    }, { what: 'a stored result of the fake check' });
    expect(probed[0]).toBe('svc-a');
    expect(result).toMatchObject({ status: 'up', total_ms: 7, error: null, worker_id: worker.stats().workerId });
    const registered = await cp.mon.store.getWorker(worker.stats().workerId);
    expect(registered?.capabilities).toContain('fake');

    await cp.mon.runOnce(); // folds the result into the rollups
    const rollups = await cp.mon.store.queryRollups({ monitorId: 'mon_fake', resolution: '1m', from: now - 60_000, to: now + 120_000 });
    expect(rollups.reduce((n, r) => n + r.count, 0)).toBeGreaterThanOrEqual(1);
    expect(rollups.reduce((n, r) => n + r.up_count, 0)).toBe(rollups.reduce((n, r) => n + r.count, 0));
  });
});
