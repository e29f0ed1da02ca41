/**
 * Maintenance windows on the dashboard: the wire shape (MaintenanceService, proto3 JSON), the schedule in the
 * server's own maths (src/monitoring/maintenance/window-math.ts, the same code the alerting calendar runs), and
 * which windows are active, upcoming or past at a given instant. Pure: `now` is passed in.
 */
import { activeAt, nextAfter, occurrencesBetween, zonedToUtc, type MaintenanceSchedule, type Occurrence } from '../../../src/monitoring/maintenance/window-math.js';
import { num } from './api.js';

export interface WireSchedule {
  kind?: string;
  startsAtMs?: string;
  endsAtMs?: string;
  weekdays?: number[];
  start?: string;
  expression?: string;
  durationMs?: string;
  timezone?: string;
}
export interface WireWindow {
  id: string;
  title?: string;
  description?: string;
  schedule?: WireSchedule;
  targets?: { monitorIds?: string[]; groups?: string[]; statusPages?: string[] };
  createdAtMs?: string;
  updatedAtMs?: string;
}

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const DAY_MS = 86_400_000;

/** The wire schedule as the maths' schedule, or null when it is not one the server writes. */
export function scheduleOf(s: WireSchedule | undefined): MaintenanceSchedule | null {
  if (!s) return null;
  if (s.kind === 'once') return { kind: 'once', startsAt: num(s.startsAtMs), endsAt: num(s.endsAtMs) };
  if (s.kind === 'weekly') return { kind: 'weekly', weekdays: s.weekdays ?? [], start: s.start ?? '', durationMs: num(s.durationMs), timezone: s.timezone ?? 'UTC' };
  if (s.kind === 'cron') return { kind: 'cron', expression: s.expression ?? '', durationMs: num(s.durationMs), timezone: s.timezone ?? 'UTC' };
  return null;
}

export type Phase = 'active' | 'upcoming' | 'past';
export interface Classified {
  window: WireWindow;
  phase: Phase;
  /** active: the occurrence in effect; upcoming: the next one; past: the last one (null when none is known). */
  occurrence: Occurrence | null;
}

/** How far back a past window's last occurrence is looked for, and how far ahead the next one. */
const PAST_MS = 400 * DAY_MS;
const AHEAD_MS = 400 * DAY_MS;

/** One window's phase at `now`: in an occurrence, with one still to come (within 400 days), or neither. */
export function classify(w: WireWindow, now: number): Classified {
  const s = scheduleOf(w.schedule);
  if (s === null) return { window: w, phase: 'past', occurrence: null };
  try {
    const active = activeAt(s, now);
    if (active) return { window: w, phase: 'active', occurrence: active };
    const next = nextAfter(s, now, AHEAD_MS);
    if (next) return { window: w, phase: 'upcoming', occurrence: next };
    const past = occurrencesBetween(s, now - PAST_MS, now);
    return { window: w, phase: 'past', occurrence: past[past.length - 1] ?? null };
  } catch {
    // A schedule the maths refuses (the server validated it, so only a stale timezone database): listed as past.
    return { window: w, phase: 'past', occurrence: null };
  }
}

/** Windows by phase: active by end, upcoming by next start, past newest first. */
export function groupWindows(ws: readonly WireWindow[], now: number): Record<Phase, Classified[]> {
  const out: Record<Phase, Classified[]> = { active: [], upcoming: [], past: [] };
  for (const w of ws) {
    const c = classify(w, now);
    out[c.phase].push(c);
  }
  out.active.sort((a, b) => (a.occurrence?.end ?? 0) - (b.occurrence?.end ?? 0));
  out.upcoming.sort((a, b) => (a.occurrence?.start ?? 0) - (b.occurrence?.start ?? 0));
  out.past.sort((a, b) => (b.occurrence?.end ?? 0) - (a.occurrence?.end ?? 0));
  return out;
}

/** "HH:MM" of a duration in ms when whole minutes, e.g. 5400000 → "1 h 30 min". */
export function durationText(ms: number): string {
  const m = Math.round(ms / 60_000);
  const h = Math.floor(m / 60);
  return h > 0 ? `${h} h${m % 60 ? ` ${m % 60} min` : ''}` : `${m} min`;
}

/** A schedule in words: "once", "weekly Mon, Wed 02:00 for 2 h (Europe/Amsterdam)", "cron "0 3 * * *" for …". */
export function describeSchedule(s: WireSchedule | undefined): string {
  if (!s) return '–';
  if (s.kind === 'once') return 'once';
  const dur = durationText(num(s.durationMs));
  const tz = s.timezone ?? 'UTC';
  if (s.kind === 'weekly') return `weekly ${(s.weekdays ?? []).map((d) => WEEKDAYS[d] ?? String(d)).join(', ')} ${s.start ?? ''} for ${dur} (${tz})`;
  if (s.kind === 'cron') return `cron "${s.expression ?? ''}" for ${dur} (${tz})`;
  return s.kind ?? '–';
}

/**
 * A local date-time from an <input type="datetime-local"> ("2026-12-24T22:00") in `tz` as epoch ms, or null
 * when it is not one. Same DST rules as the recurring windows (a skipped time moves forward by the gap).
 */
export function localToEpoch(value: string, tz: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return null;
  try {
    return zonedToUtc(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), tz);
  } catch {
    return null;
  }
}

/** An instant as the "YYYY-MM-DDTHH:MM" wall time of `tz` (for a datetime-local input). */
export function epochToLocal(at: number, tz: string): string {
  const f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  const p: Record<string, string> = {};
  for (const x of f.formatToParts(new Date(at))) p[x.type] = x.value;
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** The browser's IANA timezone (UTC when it has none). */
export const browserTimezone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export type { MaintenanceSchedule, Occurrence };
