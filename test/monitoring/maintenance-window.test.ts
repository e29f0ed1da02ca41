/** Maintenance-window maths (pure, explicit instants): one-off, weekly in a timezone, cron; DST edges; the calendar. */
import { describe, expect, it } from 'vitest';
import { Calendar, resolveTargets } from '../../src/monitoring/maintenance/calendar.js';
import { activeAt, mergeIntervals, nextAfter, occurrencesBetween, scheduleError, zonedToUtc, type MaintenanceSchedule } from '../../src/monitoring/maintenance/window-math.js';
import type { MaintenanceRecord, StatusPageRecord } from '../../src/store/status-pages.js';

const H = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();
const AMS = 'Europe/Amsterdam';
const weekly = (over: Partial<Extract<MaintenanceSchedule, { kind: 'weekly' }>> = {}): MaintenanceSchedule => ({
  kind: 'weekly', weekdays: [0], start: '02:00', durationMs: 2 * H, timezone: AMS, ...over,
});

describe('local time to UTC', () => {
  it('uses the offset in force on that date (winter +1, summer +2)', () => {
    expect(iso(zonedToUtc(2026, 1, 15, 12, 0, AMS))).toBe('2026-01-15T11:00:00.000Z');
    expect(iso(zonedToUtc(2026, 7, 15, 12, 0, AMS))).toBe('2026-07-15T10:00:00.000Z');
    expect(iso(zonedToUtc(2026, 7, 15, 12, 0, 'America/New_York'))).toBe('2026-07-15T16:00:00.000Z');
  });
  it('a time skipped by spring-forward moves forward by the gap; a repeated one is its first occurrence', () => {
    expect(iso(zonedToUtc(2026, 3, 29, 2, 30, AMS))).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(iso(zonedToUtc(2026, 10, 25, 2, 30, AMS))).toBe('2026-10-25T00:30:00.000Z'); // first 02:30 (CEST)
    expect(iso(zonedToUtc(2026, 3, 8, 2, 30, 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z'); // 03:30 EDT
  });
});

describe('weekly windows', () => {
  it('stay at 01:00 local across both DST changes', () => {
    const occ = occurrencesBetween(weekly({ start: '01:00' }), Date.UTC(2026, 2, 20), Date.UTC(2026, 10, 5)).map((o) => iso(o.start));
    expect(occ[0]).toBe('2026-03-22T00:00:00.000Z'); // CET
    expect(occ[1]).toBe('2026-03-29T00:00:00.000Z'); // 01:00 CET, before the change at 02:00
    expect(occ[2]).toBe('2026-04-04T23:00:00.000Z'); // Sunday 5 April, 01:00 CEST
    expect(occ.at(-2)).toBe('2026-10-24T23:00:00.000Z'); // 01:00 CEST on the fall-back day
    expect(occ.at(-1)).toBe('2026-11-01T00:00:00.000Z'); // CET again
  });
  it('a window starting in the spring-forward gap starts after it and keeps its duration', () => {
    const [o] = occurrencesBetween(weekly(), Date.UTC(2026, 2, 28), Date.UTC(2026, 2, 30));
    expect(iso(o!.start)).toBe('2026-03-29T01:00:00.000Z');
    expect(o!.end - o!.start).toBe(2 * H);
  });
  it('picks only the listed weekdays and reports windows overlapping the range (started before it)', () => {
    const s = weekly({ weekdays: [1, 3], start: '23:00', durationMs: 3 * H, timezone: 'UTC' });
    const occ = occurrencesBetween(s, Date.UTC(2026, 5, 2, 0, 30), Date.UTC(2026, 5, 9)); // Tue 00:30 .. Tue
    expect(occ.map((o) => iso(o.start))).toEqual(['2026-06-01T23:00:00.000Z', '2026-06-03T23:00:00.000Z', '2026-06-08T23:00:00.000Z']);
  });
  it('active at start, not at end (half-open)', () => {
    const start = Date.UTC(2026, 0, 4, 1); // Sunday 02:00 CET
    expect(activeAt(weekly(), start - 1)).toBeNull();
    expect(activeAt(weekly(), start)).toEqual({ start, end: start + 2 * H });
    expect(activeAt(weekly(), start + 2 * H - 1)).not.toBeNull();
    expect(activeAt(weekly(), start + 2 * H)).toBeNull();
    expect(nextAfter(weekly(), start)?.start).toBe(start + 7 * 24 * H);
  });
});

describe('cron and one-off windows', () => {
  it('cron in a timezone follows local time', () => {
    const s: MaintenanceSchedule = { kind: 'cron', expression: '30 3 1 * *', durationMs: H, timezone: AMS };
    expect(occurrencesBetween(s, Date.UTC(2026, 0, 1), Date.UTC(2026, 7, 2)).map((o) => iso(o.start)).slice(0, 4)).toEqual([
      '2026-01-01T02:30:00.000Z', '2026-02-01T02:30:00.000Z', '2026-03-01T02:30:00.000Z', '2026-04-01T01:30:00.000Z',
    ]);
  });
  it('one-off', () => {
    const s: MaintenanceSchedule = { kind: 'once', startsAt: 1000, endsAt: 2000 };
    expect(occurrencesBetween(s, 0, 1000)).toEqual([]);
    expect(occurrencesBetween(s, 1999, 5000)).toEqual([{ start: 1000, end: 2000 }]);
    expect(activeAt(s, 2000)).toBeNull();
  });
  it('bad schedules name the field', () => {
    expect(scheduleError({ kind: 'once', startsAt: 5, endsAt: 5 })).toMatch(/^ends_at: expected/);
    expect(scheduleError(weekly({ timezone: 'Mars/Olympus' }))).toMatch(/^timezone: expected an IANA timezone/);
    expect(scheduleError(weekly({ weekdays: [7] }))).toMatch(/^weekdays: expected/);
    expect(scheduleError(weekly({ start: '24:00' }))).toMatch(/^start: expected a local time "HH:MM"/);
    expect(scheduleError(weekly({ durationMs: 0 }))).toMatch(/^duration: expected/);
    expect(scheduleError({ kind: 'cron', expression: '61 * * * *', durationMs: H, timezone: 'UTC' })).toMatch(/^cron: expected a cron expression/);
    expect(scheduleError(weekly())).toBeNull();
  });
  it('merges overlapping intervals', () => {
    expect(mergeIntervals([{ start: 5, end: 9 }, { start: 0, end: 3 }, { start: 3, end: 6 }, { start: 20, end: 21 }])).toEqual([{ start: 0, end: 9 }, { start: 20, end: 21 }]);
  });
});

describe('calendar', () => {
  const page = (slug: string, groups: StatusPageRecord['groups']): StatusPageRecord => ({ slug, title: slug, description: '', groups, showTargets: false, createdAt: 0, updatedAt: 0 });
  const win = (id: string, targets: MaintenanceRecord['targets'], schedule: MaintenanceSchedule = { kind: 'once', startsAt: 100, endsAt: 200 }): MaintenanceRecord => ({
    id, title: `w ${id}`, description: '', schedule, targets, createdAt: 0, updatedAt: 0,
  });
  const pages = [page('a', [{ name: 'API', monitorIds: ['m1', 'm2'] }, { name: 'Web', monitorIds: ['m3'] }]), page('b', [{ name: 'API', monitorIds: ['m4'] }])];

  it('resolves monitors, groups (by name, on every page) and whole pages', () => {
    expect([...resolveTargets(win('1', { monitorIds: ['m9'], groups: [], statusPages: [] }), pages)]).toEqual(['m9']);
    expect([...resolveTargets(win('2', { monitorIds: [], groups: ['API'], statusPages: [] }), pages)].sort()).toEqual(['m1', 'm2', 'm4']);
    expect([...resolveTargets(win('3', { monitorIds: [], groups: [], statusPages: ['a'] }), pages)].sort()).toEqual(['m1', 'm2', 'm3']);
  });
  it('activeFor answers the window ending last, and null outside', () => {
    const c = new Calendar([win('x', { monitorIds: ['m1'], groups: [], statusPages: [] }), win('y', { monitorIds: [], groups: ['API'], statusPages: [] }, { kind: 'once', startsAt: 150, endsAt: 400 })], pages);
    expect(c.activeFor('m1', 120)).toEqual({ id: 'x', title: 'w x', endsAt: 200 });
    expect(c.activeFor('m1', 160)).toEqual({ id: 'y', title: 'w y', endsAt: 400 });
    expect(c.activeFor('m3', 160)).toBeNull();
    expect(c.activeFor('m1', 400)).toBeNull();
    expect(c.intervalsFor('m1', 0, 1000)).toEqual([{ start: 100, end: 400 }]);
  });
});
