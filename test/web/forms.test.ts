/**
 * The dashboard's form logic (web/src/lib), without a browser: where a server message is shown, what a channel
 * edit sends for its secrets, what an alert-rule override becomes, and which maintenance windows are active,
 * upcoming or past at an instant.
 */
import { describe, expect, it } from 'vitest';
import { fieldPath, indexIn, placeError } from '../../web/src/lib/fields.js';
import { buildSettings, initialValues, parseHeaders, SECRET_MASK, SettingsError } from '../../web/src/lib/channels.js';
import { buildOverride, ruleFormOf } from '../../web/src/lib/rules.js';
import { classify, epochToLocal, groupWindows, localToEpoch, type WireWindow } from '../../web/src/lib/maintenance.js';
import { maskSettings, unmaskSettings } from '../../src/monitoring/alerts/channels/index.js';

describe('placeError', () => {
  const keys = ['slug', 'title', 'groups', 'schedule.start', 'schedule.starts_at', 'schedule'];
  it('puts a message at the most specific field its path names', () => {
    expect(placeError('page.slug: expected lower-case letters', 'page', keys)).toEqual({ field: 'slug', message: 'page.slug: expected lower-case letters' });
    expect(placeError('page.groups.0.monitor_ids.0: expected a monitor id', 'page', keys).field).toBe('groups');
    expect(placeError('window.schedule.starts_at: expected a start time', 'window', keys).field).toBe('schedule.starts_at');
    expect(placeError('window.schedule.start: expected a local time "HH:MM"', 'window', keys).field).toBe('schedule.start');
    expect(placeError('window.schedule.weekdays: expected one or more', 'window', keys).field).toBe('schedule');
  });
  it('shows a message that names no field of the form at the form', () => {
    expect(placeError('StatusPagesService is not served', 'page', keys).field).toBeNull();
    expect(placeError('page: required', 'page', keys).field).toBeNull();
    expect(placeError('window.title: x', 'page', keys).field).toBeNull();
    expect(fieldPath('[invalid_argument] override_json.max_reminders: expected a non-negative integer', 'override_json')).toBe('max_reminders');
  });
  it('finds which entry of a list a message is about (the group of a status page)', () => {
    expect(indexIn('page.groups.2.monitor_ids.0: expected a monitor id', 'page.groups')).toBe(2);
    expect(indexIn('page.groups.0: x', 'page.groups')).toBe(0);
    expect(indexIn('page.groups: expected at most 100 groups', 'page.groups')).toBeNull();
    expect(indexIn('page.slug: x', 'page.groups')).toBeNull();
  });
});

describe('channel settings', () => {
  const stored = maskSettings('webhook', { url: 'https://hooks.example.com/x', secret: 's3cret', headers: { Authorization: 'Bearer t' } });

  it('never puts a stored secret in the form, and keeps it when left blank (the server unmasks the mask)', () => {
    const v = initialValues('webhook', stored);
    expect(v).toEqual({ url: 'https://hooks.example.com/x', secret: '', headers: '' });
    const sent = buildSettings('webhook', { ...v, url: 'https://hooks.example.com/y' }, { stored, sameType: true, clear: new Set() });
    expect(sent).toEqual({ url: 'https://hooks.example.com/y', secret: SECRET_MASK, headers: SECRET_MASK });
    // What the server stores from that: the new URL, the old secret and headers.
    expect(unmaskSettings('webhook', sent, { url: 'https://hooks.example.com/x', secret: 's3cret', headers: { Authorization: 'Bearer t' } })).toEqual({
      url: 'https://hooks.example.com/y',
      secret: 's3cret',
      headers: { Authorization: 'Bearer t' },
    });
  });
  it('replaces a secret that is typed, and clears an optional one on request', () => {
    const v = { url: 'https://h.example/x', secret: 'new', headers: 'X-A: 1\nX-B: two: parts' };
    expect(buildSettings('webhook', v, { stored, sameType: true, clear: new Set() })).toEqual({ url: 'https://h.example/x', secret: 'new', headers: { 'X-A': '1', 'X-B': 'two: parts' } });
    expect(buildSettings('webhook', { url: 'https://h.example/x', secret: '', headers: '' }, { stored, sameType: true, clear: new Set(['secret', 'headers']) })).toEqual({
      url: 'https://h.example/x',
      secret: '',
      headers: {},
    });
  });
  it('does not send a mask for a type that was changed or a secret never stored', () => {
    const slack = maskSettings('slack', { url: 'https://hooks.slack.com/services/T/B/X' });
    expect(buildSettings('discord', { url: '' }, { stored: slack, sameType: false, clear: new Set() })).toEqual({});
    expect(buildSettings('ntfy', { topic: 'ops', base_url: '', token: '' }, { stored: {}, sameType: false, clear: new Set() })).toEqual({ topic: 'ops' });
  });
  it('reads lists and refuses a header line without a colon, naming the field', () => {
    expect(buildSettings('email', { to: 'a@example.com, b@example.com' }, { stored: {}, sameType: false, clear: new Set() })).toEqual({ to: ['a@example.com', 'b@example.com'] });
    expect(() => parseHeaders('X-Ok: 1\nbroken')).toThrow(SettingsError);
    expect(() => parseHeaders('X-Ok: 1\nbroken')).toThrow(/^settings\.headers: line 2/);
  });
});

describe('alert rule override', () => {
  it('sends only the fields that are filled, in ms, and keeps keys the form does not show', () => {
    const form = ruleFormOf({ group: 'db', failure_threshold: 5, reminder_interval_ms: 900_000, degraded_latency_ms: null });
    expect(form.values.failure_threshold).toBe('5');
    expect(form.values.reminder_interval_ms).toBe('15');
    expect(form.values.degraded_latency_ms).toBe('off');
    form.values.failure_threshold = '';
    form.values.success_threshold = '4';
    form.values.region_quorum = 'majority';
    form.values.degraded_window_ms = '120';
    form.dependsOn = ['mon_parent'];
    expect(buildOverride(form, { group: 'db', failure_threshold: 5 })).toEqual({
      group: 'db',
      success_threshold: 4,
      region_quorum: 'majority',
      reminder_interval_ms: 900_000,
      degraded_latency_ms: null,
      degraded_window_ms: 120_000,
      depends_on: ['mon_parent'],
    });
  });
  it('sends a value that is not a number as written, so the server names the field', () => {
    const form = ruleFormOf({});
    form.values.max_reminders = 'many';
    expect(buildOverride(form, {})).toEqual({ max_reminders: 'many' });
  });
});

describe('maintenance windows by phase', () => {
  const NOW = Date.UTC(2026, 11, 2, 12, 0); // Wednesday
  const H = 3_600_000;
  const once = (id: string, start: number, end: number): WireWindow => ({ id, title: id, schedule: { kind: 'once', startsAtMs: String(start), endsAtMs: String(end) } });

  it('splits one-off windows into active, upcoming and past, each in its order', () => {
    const g = groupWindows([once('past-old', NOW - 10 * H, NOW - 9 * H), once('now', NOW - H, NOW + H), once('later', NOW + 5 * H, NOW + 6 * H), once('soon', NOW + H, NOW + 2 * H), once('past-new', NOW - 3 * H, NOW - 2 * H)], NOW);
    expect(g.active.map((c) => c.window.id)).toEqual(['now']);
    expect(g.upcoming.map((c) => c.window.id)).toEqual(['soon', 'later']);
    expect(g.past.map((c) => c.window.id)).toEqual(['past-new', 'past-old']);
    // Half-open: a window that ends now is past, one that starts now is active.
    expect(classify(once('edge', NOW - H, NOW), NOW).phase).toBe('past');
    expect(classify(once('edge', NOW, NOW + H), NOW).phase).toBe('active');
  });
  it('puts weekly and cron windows in their local timezone', () => {
    // Wednesday 12:00 UTC is 13:00 in Amsterdam (winter): a Wednesday 12:30–13:30 local window is active.
    const weekly: WireWindow = { id: 'w', schedule: { kind: 'weekly', weekdays: [3], start: '12:30', durationMs: String(H), timezone: 'Europe/Amsterdam' } };
    const c = classify(weekly, NOW);
    expect(c.phase).toBe('active');
    expect(c.occurrence).toEqual({ start: Date.UTC(2026, 11, 2, 11, 30), end: Date.UTC(2026, 11, 2, 12, 30) });
    const cron: WireWindow = { id: 'c', schedule: { kind: 'cron', expression: '0 3 * * *', durationMs: String(H), timezone: 'America/New_York' } };
    const n = classify(cron, NOW);
    expect(n.phase).toBe('upcoming');
    expect(n.occurrence?.start).toBe(Date.UTC(2026, 11, 3, 8, 0)); // 03:00 EST
  });
  it('reads a datetime-local value in the chosen timezone and writes it back', () => {
    const at = localToEpoch('2026-12-24T22:00', 'Europe/Amsterdam');
    expect(at).toBe(Date.UTC(2026, 11, 24, 21, 0));
    expect(epochToLocal(at!, 'Europe/Amsterdam')).toBe('2026-12-24T22:00');
    expect(localToEpoch('', 'UTC')).toBeNull();
  });
});
