import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { SqliteMonitoringStore } from '../../src/store/sqlite/monitoring.js';
import { planRuns } from '../../src/monitoring/domain/schedule-math.js';
import { newRunId } from '../../src/platform/ids.js';
import { result, spec, tempStore, type TempStore } from './helpers.js';

const T0 = 1_700_000_000_000;
const LEASE = 45_000;
const plan = (m: Parameters<typeof planRuns>[0], now: number) => planRuns(m, now, 5_000);

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.close());

async function createMonitor(id: string, over: Parameters<typeof spec>[0] = {}, now = T0) {
  return t.store.createMonitor(spec(over), { id, actor: 'test', now, jitterSeed: 7 });
}

describe('scheduleDue', () => {
  it('creates one job per region per due time and advances next_due_at in the same transaction', async () => {
    await createMonitor('m1', { interval_ms: 10_000, regions: ['eu', 'us'] });
    const r = await t.store.scheduleDue(T0, 5_000, (m) => plan(m, T0), newRunId);
    expect(r).toEqual({ monitors: 1, jobs: 2, catchUps: 0 });
    expect((await t.store.getMonitor('m1'))!.next_due_at).toBe(T0 + 10_000);
    expect((await t.store.getMonitor('m1'))!.last_scheduled_at).toBe(T0);
    // same instant again: nothing new
    expect((await t.store.scheduleDue(T0, 5_000, (m) => plan(m, T0), newRunId)).jobs).toBe(0);
    const rows = t.db.prepare('SELECT region, scheduled_at, status FROM jobs ORDER BY region').all();
    expect(rows).toEqual([
      { region: 'eu', scheduled_at: T0, status: 'ready' },
      { region: 'us', scheduled_at: T0, status: 'ready' },
    ]);
  });

  it('a restart (new connection, same file) never duplicates a run, even when the clock goes back', async () => {
    await createMonitor('m1', { interval_ms: 10_000 });
    for (let now = T0; now < T0 + 60_000; now += 1_000) await t.store.scheduleDue(now, 5_000, (m) => plan(m, now), newRunId);
    t.db.close();
    const db2 = openSqlite(t.path);
    const store2 = new SqliteMonitoringStore(db2);
    for (let now = T0 + 50_000; now < T0 + 120_000; now += 1_000) await store2.scheduleDue(now, 5_000, (m) => plan(m, now), newRunId);
    const rows = db2.prepare('SELECT scheduled_at FROM jobs ORDER BY scheduled_at').all() as Array<{ scheduled_at: number }>;
    const times = rows.map((r) => r.scheduled_at);
    expect(new Set(times).size).toBe(times.length);
    // slots T0, T0+10s, … up to the last horizon T0 + 119s + 5s
    expect(times).toEqual(Array.from({ length: 13 }, (_, i) => T0 + i * 10_000));
    db2.close();
    t.db = openSqlite(t.path); // so afterEach can close it
  });

  it('after downtime schedules a single catch-up run per monitor', async () => {
    await createMonitor('m1', { interval_ms: 10_000 });
    await createMonitor('m2', { interval_ms: 60_000 });
    await t.store.scheduleDue(T0, 5_000, (m) => plan(m, T0), newRunId);
    const later = T0 + 3_600_000;
    const r = await t.store.scheduleDue(later, 5_000, (m) => plan(m, later), newRunId);
    expect(r.catchUps).toBe(2);
    expect(r.jobs).toBe(2);
  });

  it('disabled and soft-deleted monitors stop producing jobs, and their ready jobs are cancelled', async () => {
    await createMonitor('m1', { interval_ms: 2_000 });
    await createMonitor('m2', { interval_ms: 2_000 });
    await t.store.scheduleDue(T0, 5_000, (m) => plan(m, T0), newRunId);
    await t.store.updateMonitor('m1', { enabled: false }, { actor: 'a', now: T0 + 1 });
    await t.store.deleteMonitor('m2', { actor: 'a', now: T0 + 1 });
    expect((await t.store.countJobs()).ready).toBe(0);
    const r = await t.store.scheduleDue(T0 + 60_000, 5_000, (m) => plan(m, T0 + 60_000), newRunId);
    expect(r.jobs).toBe(0);
    const leased = await t.store.leaseJobs({ workerId: 'w', region: 'global', count: 100, now: T0 + 60_000, leadMs: 2_000, leaseMs: LEASE });
    expect(leased).toEqual([]);
  });
});

describe('monitors and audit', () => {
  it('records who changed what, with before/after', async () => {
    await createMonitor('m1', { name: 'one' });
    await t.store.updateMonitor('m1', { name: 'two' }, { actor: 'alice', now: T0 + 5 });
    await t.store.deleteMonitor('m1', { actor: 'bob', now: T0 + 9 });
    expect(await t.store.updateMonitor('m1', { name: 'three' }, { actor: 'x', now: T0 + 10 })).toBeNull();
    expect(await t.store.deleteMonitor('m1', { actor: 'x', now: T0 + 10 })).toBeNull();
    const events = await t.store.listAudit({ entityId: 'm1', limit: 10 });
    expect(events.map((e) => [e.action, e.actor, e.at])).toEqual([
      ['monitor.delete', 'bob', T0 + 9],
      ['monitor.update', 'alice', T0 + 5],
      ['monitor.create', 'test', T0],
    ]);
    expect(JSON.parse(events[1]!.before!).name).toBe('one');
    expect(JSON.parse(events[1]!.after!).name).toBe('two');
    expect(events[2]!.before).toBeNull();
    expect((await t.store.listMonitors({ includeDeleted: false, limit: 10 })).length).toBe(0);
    expect((await t.store.listMonitors({ includeDeleted: true, limit: 10 }))[0]!.deleted_at).toBe(T0 + 9);
  });

  it('pages monitors by id', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) await createMonitor(id);
    const p1 = await t.store.listMonitors({ includeDeleted: false, limit: 2 });
    const p2 = await t.store.listMonitors({ includeDeleted: false, limit: 2, after: p1[1]!.id });
    expect([...p1, ...p2].map((m) => m.id)).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('leasing', () => {
  async function jobsIn(regions: string[], now = T0) {
    await createMonitor(`m-${regions.join('-')}`, { interval_ms: 10_000, regions });
    await t.store.scheduleDue(now, 0, (m) => plan(m, now), newRunId);
  }

  it("gives a worker its own region's jobs first, then global ones, never another region's", async () => {
    await jobsIn(['global']);
    await jobsIn(['eu']);
    await jobsIn(['us']);
    const first = await t.store.leaseJobs({ workerId: 'w-eu', region: 'eu', count: 1, now: T0, leadMs: 0, leaseMs: LEASE });
    expect(first.map((j) => j.region)).toEqual(['eu']);
    const next = await t.store.leaseJobs({ workerId: 'w-eu', region: 'eu', count: 5, now: T0, leadMs: 0, leaseMs: LEASE });
    expect(next.map((j) => j.region)).toEqual(['global']);
    expect(await t.store.leaseJobs({ workerId: 'w-eu', region: 'eu', count: 5, now: T0, leadMs: 0, leaseMs: LEASE })).toEqual([]);
    const us = await t.store.leaseJobs({ workerId: 'w-us', region: 'us', count: 5, now: T0, leadMs: 0, leaseMs: LEASE });
    expect(us.map((j) => j.region)).toEqual(['us']);
  });

  it('leases a job at most dispatch lead before scheduled_at, and carries the monitor fields', async () => {
    await createMonitor('m1', { interval_ms: 60_000, url: 'http://x/y', headers: { a: 'b' }, assertions_compiled: [{ k: 1 }] }, T0);
    await t.store.scheduleDue(T0, 0, (m) => plan(m, T0), newRunId);
    await t.db.prepare('UPDATE jobs SET scheduled_at = ?').run(T0 + 3_000);
    expect(await t.store.leaseJobs({ workerId: 'w', region: 'global', count: 1, now: T0, leadMs: 2_000, leaseMs: LEASE })).toEqual([]);
    const [j] = await t.store.leaseJobs({ workerId: 'w', region: 'global', count: 1, now: T0 + 1_000, leadMs: 2_000, leaseMs: LEASE });
    expect(j).toMatchObject({ scheduled_at: T0 + 3_000, lease_expires_at: T0 + 1_000 + LEASE, attempt: 1, monitor: { url: 'http://x/y', headers: { a: 'b' }, assertions_compiled: [{ k: 1 }] } });
  });

  it('renewal keeps a lease alive past 45 s; renewal checks the worker id', async () => {
    await jobsIn(['global']);
    const [j] = await t.store.leaseJobs({ workerId: 'w1', region: 'global', count: 1, now: T0, leadMs: 0, leaseMs: LEASE });
    for (let now = T0 + 10_000; now <= T0 + 120_000; now += 10_000) {
      const r = await t.store.renewLeases({ workerId: 'w1', runIds: [j!.run_id], now, leaseMs: LEASE });
      expect(r).toEqual({ renewed: [j!.run_id], lost: [] });
      await t.store.reapExpired({ now, maxAttempts: 3, missedBefore: 0 });
    }
    expect((await t.store.getJob(j!.run_id))).toMatchObject({ status: 'leased', worker_id: 'w1', lease_expires_at: T0 + 120_000 + LEASE });
    expect(await t.store.renewLeases({ workerId: 'w2', runIds: [j!.run_id, 'nope'], now: T0 + 121_000, leaseMs: LEASE })).toEqual({ renewed: [], lost: [j!.run_id, 'nope'] });
  });

  it('the reaper returns expired leases to ready with attempts + 1, and closes the job with an expiry result after max attempts', async () => {
    await jobsIn(['global']);
    let now = T0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [j] = await t.store.leaseJobs({ workerId: `w${attempt}`, region: 'global', count: 1, now, leadMs: 0, leaseMs: LEASE });
      expect(j!.attempt).toBe(attempt);
      expect(await t.store.reapExpired({ now: now + LEASE, maxAttempts: 3, missedBefore: 0 })).toEqual({ requeued: 0, expired: 0, missed: 0 });
      now += LEASE + 1;
      const r = await t.store.reapExpired({ now, maxAttempts: 3, missedBefore: 0 });
      expect(r).toEqual(attempt < 3 ? { requeued: 1, expired: 0, missed: 0 } : { requeued: 0, expired: 1, missed: 0 });
      const job = await t.store.getJob(j!.run_id);
      expect(job!.attempts).toBe(attempt);
      expect(job!.status).toBe(attempt < 3 ? 'ready' : 'done');
    }
    const res = t.db.prepare('SELECT status, error_class, worker_id FROM results_raw').all();
    expect(res).toEqual([{ status: 'expired', error_class: 'lease_expired', worker_id: 'w3' }]);
  });

  it('closes ready jobs nobody leased in time as missed', async () => {
    await jobsIn(['mars']);
    const r = await t.store.reapExpired({ now: T0 + 600_000, maxAttempts: 3, missedBefore: T0 + 1 });
    expect(r.missed).toBe(1);
    expect((await t.store.countJobs()).done).toBe(1);
  });
});

describe('ingest', () => {
  async function leasedJob(workerId = 'w1') {
    await createMonitor(`m${Math.random()}`, { interval_ms: 10_000, regions: ['eu'] });
    await t.store.scheduleDue(T0, 0, (m) => plan(m, T0), newRunId);
    const [j] = await t.store.leaseJobs({ workerId, region: 'eu', count: 1, now: T0, leadMs: 0, leaseMs: LEASE });
    return j!;
  }

  it('is idempotent: the same result twice gives one row and both are acknowledged', async () => {
    const j = await leasedJob();
    const r = result(j.run_id, T0 + 10);
    expect(await t.store.ingestResults([{ workerId: 'w1', result: r }], T0 + 20)).toEqual(['stored']);
    expect(await t.store.ingestResults([{ workerId: 'w1', result: r }, { workerId: 'w1', result: r }], T0 + 30)).toEqual(['duplicate', 'duplicate']);
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM results_raw').get()).toEqual({ n: 1 });
    expect(await t.store.getJob(j.run_id)).toMatchObject({ status: 'done', outcome: 'result' });
    const [row] = await t.store.listResults({ monitorId: j.monitor_id, limit: 10 });
    expect(row).toMatchObject({ run_id: j.run_id, region: 'eu', worker_id: 'w1', status: 'up', http_code: 200, total_ms: 8 });
  });

  it('rejects a result whose lease is no longer held by that worker (not stored)', async () => {
    const j = await leasedJob('w1');
    await t.store.reapExpired({ now: T0 + LEASE + 1, maxAttempts: 3, missedBefore: 0 });
    const [again] = await t.store.leaseJobs({ workerId: 'w2', region: 'eu', count: 1, now: T0 + LEASE + 2, leadMs: 0, leaseMs: LEASE });
    expect(again!.run_id).toBe(j.run_id);
    expect(await t.store.ingestResults([{ workerId: 'w1', result: result(j.run_id, T0 + 5) }], T0 + LEASE + 3)).toEqual(['lease_lost']);
    expect(await t.store.ingestResults([{ workerId: 'w3', result: result('no-such-run', T0 + 5) }], T0 + LEASE + 3)).toEqual(['lease_lost']);
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM results_raw').get()).toEqual({ n: 0 });
    expect(await t.store.ingestResults([{ workerId: 'w2', result: result(j.run_id, T0 + LEASE + 2) }], T0 + LEASE + 4)).toEqual(['stored']);
    // w1's retry after w2 completed is still rejected (different worker, different event)
    expect(await t.store.ingestResults([{ workerId: 'w1', result: result(j.run_id, T0 + 5) }], T0 + LEASE + 5)).toEqual(['lease_lost']);
  });
});

describe('workers', () => {
  it('registers, refreshes and marks inactive workers', async () => {
    await t.store.upsertWorker({ id: 'w1', hostname: 'h', region: 'eu', version: '1', capabilities: ['http'] }, T0);
    await t.store.upsertWorker({ id: 'w2', hostname: 'h', region: 'eu', version: '1', capabilities: [] }, T0);
    await t.store.touchWorkers(['w2'], T0 + 60_000);
    expect(await t.store.markInactiveWorkers(T0 + 30_000)).toEqual(['w1']);
    expect((await t.store.getWorker('w1'))!.status).toBe('inactive');
    await t.store.touchWorkers(['w1'], T0 + 70_000);
    expect((await t.store.getWorker('w1'))!.status).toBe('active');
    expect(await t.store.revokeWorker('w1', 'stolen', T0)).toBe(true);
    const w = await t.store.upsertWorker({ id: 'w1', hostname: 'h', region: 'eu', version: '2', capabilities: [] }, T0 + 80_000);
    expect(w).toMatchObject({ status: 'revoked', revoked_reason: 'stolen', version: '2' });
  });
});
