/** Contract scenarios of MonitoringStore: monitors CRUD (soft delete) with audit, job creation, workers. */
import { describe, expect, it } from 'vitest';
import { planRuns } from '../../../src/monitoring/domain/schedule-math.js';
import { newRunId } from '../../../src/platform/ids.js';
import type { MonitorSpec } from '../../../src/store/monitoring.js';
import type { ContractContext } from './index.js';
import { seedJobs, spec } from './fixtures.js';

const T0 = 1_700_000_000_000;
const LEASE = 45_000;
const plan = (m: Parameters<typeof planRuns>[0], now: number) => planRuns(m, now, 5_000);

export function monitorScenarios(ctx: ContractContext): void {
  const s = () => ctx.stores().monitoring;
  const create = (id: string, over: Partial<MonitorSpec> = {}, now = T0) => s().createMonitor(spec(over), { id, actor: 'test', now, jitterSeed: 7 });

  describe('monitors: CRUD, soft delete and audit', () => {
    it('creates a monitor with its spec and bookkeeping fields, and reads it back', async () => {
      const rec = await create('m1', { name: 'one', headers: { a: 'b' }, assertions: ['status == 200'], assertions_compiled: [{ k: 1 }], options: { x: [1] }, regions: ['eu', 'us'] });
      expect(rec).toMatchObject({ id: 'm1', owner: 'test', jitter_seed: 7, next_due_at: T0, last_scheduled_at: null, created_at: T0, updated_at: T0, deleted_at: null });
      expect(await s().getMonitor('m1')).toEqual(rec);
      expect(await s().getMonitor('nope')).toBeNull();
    });

    it('records who changed what, with before/after; a deleted monitor cannot be changed again', async () => {
      await create('m1', { name: 'one' });
      await s().updateMonitor('m1', { name: 'two' }, { actor: 'alice', now: T0 + 5 });
      await s().deleteMonitor('m1', { actor: 'bob', now: T0 + 9 });
      expect(await s().updateMonitor('m1', { name: 'three' }, { actor: 'x', now: T0 + 10 })).toBeNull();
      expect(await s().deleteMonitor('m1', { actor: 'x', now: T0 + 10 })).toBeNull();
      expect(await s().updateMonitor('missing', { name: 'x' }, { actor: 'x', now: T0 })).toBeNull();
      const events = await s().listAudit({ entityId: 'm1', limit: 10 });
      expect(events.map((e) => [e.action, e.actor, e.at, e.entity_type, e.entity_id])).toEqual([
        ['monitor.delete', 'bob', T0 + 9, 'monitor', 'm1'],
        ['monitor.update', 'alice', T0 + 5, 'monitor', 'm1'],
        ['monitor.create', 'test', T0, 'monitor', 'm1'],
      ]);
      expect(JSON.parse(events[1]!.before!).name).toBe('one');
      expect(JSON.parse(events[1]!.after!).name).toBe('two');
      expect(events[2]!.before).toBeNull();
      expect(JSON.parse(events[0]!.after!).deleted_at).toBe(T0 + 9);
      expect((await s().listAudit({ limit: 2 })).map((e) => e.action)).toEqual(['monitor.delete', 'monitor.update']);
      expect(await s().listAudit({ entityId: 'other', limit: 10 })).toEqual([]);
    });

    it('soft delete: hidden from the default list, kept (with deleted_at) when asked for', async () => {
      await create('m1');
      await create('m2');
      await s().deleteMonitor('m1', { actor: 'a', now: T0 + 9 });
      expect((await s().listMonitors({ includeDeleted: false, limit: 10 })).map((m) => m.id)).toEqual(['m2']);
      const all = await s().listMonitors({ includeDeleted: true, limit: 10 });
      expect(all.map((m) => [m.id, m.deleted_at])).toEqual([
        ['m1', T0 + 9],
        ['m2', null],
      ]);
      expect((await s().getMonitor('m1'))!.deleted_at).toBe(T0 + 9);
    });

    it('pages monitors by id', async () => {
      for (const id of ['c', 'a', 'e', 'b', 'd']) await create(id);
      const p1 = await s().listMonitors({ includeDeleted: false, limit: 2 });
      const p2 = await s().listMonitors({ includeDeleted: false, limit: 2, after: p1[1]!.id });
      const p3 = await s().listMonitors({ includeDeleted: false, limit: 2, after: p2[1]!.id });
      expect([...p1, ...p2, ...p3].map((m) => m.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(await s().listMonitors({ includeDeleted: false, limit: 2, after: 'e' })).toEqual([]);
    });

    it('an interval change reschedules from the last run; re-enabling makes the monitor due now', async () => {
      await create('m1', { interval_ms: 10_000 });
      await s().scheduleDue(T0, 0, (m) => plan(m, T0), newRunId);
      const up = await s().updateMonitor('m1', { interval_ms: 60_000 }, { actor: 'a', now: T0 + 1_000 });
      expect(up).toMatchObject({ interval_ms: 60_000, next_due_at: T0 + 60_000, updated_at: T0 + 1_000 });
      await s().updateMonitor('m1', { enabled: false }, { actor: 'a', now: T0 + 2_000 });
      expect((await s().updateMonitor('m1', { enabled: true }, { actor: 'a', now: T0 + 3_000 }))!.next_due_at).toBe(T0 + 3_000);
    });
  });

  describe('monitors: job creation', () => {
    it('creates one job per region per due time and advances next_due_at; the same instant again creates nothing', async () => {
      await create('m1', { interval_ms: 10_000, regions: ['eu', 'us'] });
      const r = await s().scheduleDue(T0, 5_000, (m) => plan(m, T0), newRunId);
      expect(r).toEqual({ monitors: 1, jobs: 2, catchUps: 0 });
      expect((await s().getMonitor('m1'))!.next_due_at).toBe(T0 + 10_000);
      expect((await s().getMonitor('m1'))!.last_scheduled_at).toBe(T0);
      expect((await s().scheduleDue(T0, 5_000, (m) => plan(m, T0), newRunId)).jobs).toBe(0);
      expect(await s().countJobs()).toEqual({ ready: 2, leased: 0, done: 0 });
      const jobs = await s().leaseJobs({ workerId: 'w', region: 'eu', count: 10, now: T0, leadMs: 0, leaseMs: LEASE });
      expect(jobs.map((j) => [j.region, j.scheduled_at, j.monitor_id])).toEqual([['eu', T0, 'm1']]);
      expect(await s().getJob(jobs[0]!.run_id)).toMatchObject({ status: 'leased', attempts: 0, outcome: null, created_at: T0, finished_at: null });
    });

    it('a duplicate slot is ignored, even with a fresh run id', async () => {
      await seedJobs(s(), { monitorId: 'm', runs: [T0, T0, T0 + 1], now: T0 });
      expect(await s().countJobs()).toEqual({ ready: 2, leased: 0, done: 0 });
    });

    it('after downtime schedules a single catch-up run per monitor', async () => {
      await create('m1', { interval_ms: 10_000 });
      await create('m2', { interval_ms: 60_000 });
      await s().scheduleDue(T0, 5_000, (m) => plan(m, T0), newRunId);
      const later = T0 + 3_600_000;
      const r = await s().scheduleDue(later, 5_000, (m) => plan(m, later), newRunId);
      expect(r).toEqual({ monitors: 2, jobs: 2, catchUps: 2 });
    });

    it('disabled and soft-deleted monitors stop producing jobs, and their ready jobs are cancelled', async () => {
      await create('m1', { interval_ms: 2_000 });
      await create('m2', { interval_ms: 2_000 });
      await s().scheduleDue(T0, 5_000, (m) => plan(m, T0), newRunId);
      await s().updateMonitor('m1', { enabled: false }, { actor: 'a', now: T0 + 1 });
      await s().deleteMonitor('m2', { actor: 'a', now: T0 + 1 });
      const counts = await s().countJobs();
      expect(counts.ready).toBe(0);
      expect(counts.done).toBeGreaterThan(0);
      expect((await s().scheduleDue(T0 + 60_000, 5_000, (m) => plan(m, T0 + 60_000), newRunId)).jobs).toBe(0);
      expect(await s().leaseJobs({ workerId: 'w', region: 'global', count: 100, now: T0 + 60_000, leadMs: 2_000, leaseMs: LEASE })).toEqual([]);
    });

    it('changing the regions cancels the ready jobs of regions no longer listed', async () => {
      const [eu, us] = await seedJobs(s(), { monitorId: 'm', runs: [T0], now: T0, spec: { regions: ['eu', 'us'] } });
      await s().updateMonitor('m', { regions: ['us'] }, { actor: 'a', now: T0 + 1 });
      expect(await s().getJob(eu!)).toMatchObject({ status: 'done', outcome: 'cancelled', finished_at: T0 + 1 });
      expect((await s().getJob(us!))!.status).toBe('ready');
    });
  });

  describe('workers', () => {
    it('registers, refreshes, marks inactive and revokes workers; a revoked worker stays revoked', async () => {
      await s().upsertWorker({ id: 'w1', hostname: 'h', region: 'eu', version: '1', capabilities: ['http'] }, T0);
      await s().upsertWorker({ id: 'w2', hostname: 'h', region: 'eu', version: '1', capabilities: [] }, T0);
      expect(await s().getWorker('w1')).toMatchObject({ status: 'active', capabilities: ['http'], enrolled_at: T0, last_seen_at: T0, revoked_at: null });
      await s().touchWorkers(['w2'], T0 + 60_000);
      await s().touchWorkers([], T0 + 60_000);
      expect(await s().markInactiveWorkers(T0 + 30_000)).toEqual(['w1']);
      expect((await s().getWorker('w1'))!.status).toBe('inactive');
      await s().touchWorkers(['w1'], T0 + 70_000);
      expect((await s().getWorker('w1'))!.status).toBe('active');
      expect(await s().revokeWorker('w1', 'stolen', T0)).toBe(true);
      expect(await s().revokeWorker('w1', 'again', T0)).toBe(false);
      expect(await s().revokeWorker('nope', 'x', T0)).toBe(false);
      const w = await s().upsertWorker({ id: 'w1', hostname: 'h', region: 'eu', version: '2', capabilities: [] }, T0 + 80_000);
      expect(w).toMatchObject({ status: 'revoked', revoked_reason: 'stolen', version: '2', enrolled_at: T0 });
      expect((await s().listWorkers()).map((x) => [x.id, x.status])).toEqual([
        ['w1', 'revoked'],
        ['w2', 'active'],
      ]);
      expect(await s().getWorker('nope')).toBeNull();
    });
  });
}
