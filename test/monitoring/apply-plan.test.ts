import { describe, expect, it } from 'vitest';
import { changedFields, planApply } from '../../src/monitoring/apply/plan.js';
import type { MonitorRecord, MonitorSpec } from '../../src/store/monitoring.js';
import { spec } from '../store/contract/fixtures.js';

function record(id: string, over: Partial<MonitorSpec> = {}, deleted_at: number | null = null): MonitorRecord {
  return { ...spec(over), id, owner: 'test', jitter_seed: 1, last_scheduled_at: null, next_due_at: null, created_at: 1, updated_at: 1, deleted_at };
}

describe('planApply', () => {
  it('creates new names, updates changed ones with the differing fields, leaves equal ones, keeps the rest without prune', () => {
    const existing = [record('m1', { name: 'a' }), record('m2', { name: 'b', headers: { X: '1', Y: '2' } }), record('m3', { name: 'c' }), record('m4', { name: 'old' })];
    const wanted = [spec({ name: 'a', interval_ms: 5_000, assertions: ['status == 200'] }), spec({ name: 'b', headers: { Y: '2', X: '1' } }), spec({ name: 'new' })];
    const r = planApply(wanted, existing, { prune: false });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.create.map((s) => s.name)).toEqual(['new']);
    expect(r.plan.update.map((u) => [u.current.id, u.changed])).toEqual([['m1', ['interval_ms', 'assertions']]]);
    expect(r.plan.unchanged.map((m) => m.id)).toEqual(['m2']);
    expect(r.plan.delete).toEqual([]);
    expect(r.plan.kept).toBe(2);
  });

  it('with prune deletes every live monitor the list omits, and ignores deleted ones', () => {
    const existing = [record('m1', { name: 'a' }), record('m2', { name: 'gone' }), record('m3', { name: 'gone' }), record('m9', { name: 'x' }, 5)];
    const r = planApply([spec({ name: 'a' })], existing, { prune: true });
    expect(r.ok && r.plan.delete.map((m) => m.id)).toEqual(['m2', 'm3']);
    expect(r.ok && r.plan.kept).toBe(0);
    // A deleted monitor's name is free: the entry creates a new monitor.
    const again = planApply([spec({ name: 'x' })], existing, { prune: false });
    expect(again.ok && again.plan.create.map((s) => s.name)).toEqual(['x']);
  });

  it('refuses an entry whose name two live monitors hold, naming both ids', () => {
    const r = planApply([spec({ name: 'dup' })], [record('m1', { name: 'dup' }), record('m2', { name: 'dup' })], { prune: false });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/name "dup" is held by 2 monitors \(m1, m2\)/) as unknown });
  });

  it('applying the plan result again is a no-op: equal specs compare unchanged whatever the key order', () => {
    expect(changedFields(spec({ options: { a: 1, b: { c: 2, d: 3 } } }), spec({ options: { b: { d: 3, c: 2 }, a: 1 } }))).toEqual([]);
    expect(changedFields(spec({ regions: ['eu', 'us'] }), spec({ regions: ['us', 'eu'] }))).toEqual(['regions']);
    expect(changedFields(spec({ enabled: false }), spec())).toEqual(['enabled']);
  });
});
