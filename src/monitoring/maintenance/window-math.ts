/**
 * Pure maintenance-window maths: when a schedule's occurrences start and end. One-off windows are absolute;
 * recurring ones are local wall-clock times in an IANA timezone (weekdays + start + duration, or a cron
 * expression), so a "Sunday 02:00 for 2 h" window stays at 02:00 local across DST changes. No clock is read
 * here: every function takes the instant it reasons about.
 */
import { CronExpressionParser } from 'cron-parser';

export type MaintenanceSchedule =
  | { kind: 'once'; startsAt: number; endsAt: number }
  /** weekdays: 0 = Sunday … 6 = Saturday; start: local "HH:MM". */
  | { kind: 'weekly'; weekdays: number[]; start: string; durationMs: number; timezone: string }
  | { kind: 'cron'; expression: string; durationMs: number; timezone: string };

export interface Occurrence {
  start: number;
  end: number;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when `tz` is an IANA timezone name this runtime knows. */
export function isTimezone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The local wall-clock fields of instant `at` in `tz`. */
export function localParts(at: number, tz: string): { y: number; m: number; d: number; hh: number; mm: number; ss: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(at))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, m: parts.month!, d: parts.day!, hh: parts.hour! % 24, mm: parts.minute!, ss: parts.second! };
}

/** Offset of `tz` from UTC at instant `at`, in ms (local = utc + offset). */
export function tzOffsetMs(at: number, tz: string): number {
  const p = localParts(at, tz);
  const asUtc = Date.UTC(p.y, p.m - 1, p.d, p.hh, p.mm, p.ss);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/**
 * The instant of a local wall-clock time. A time that does not exist (skipped by a spring-forward change) moves
 * forward by the gap (02:30 → 03:30); an ambiguous one (repeated by a fall-back change) is its first occurrence.
 */
export function zonedToUtc(y: number, m: number, d: number, hh: number, mm: number, tz: string): number {
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  const before = tzOffsetMs(wall - DAY_MS / 2, tz);
  const after = tzOffsetMs(wall + DAY_MS / 2, tz);
  // The earlier offset first: for an ambiguous time it gives the first instant.
  for (const off of before === after ? [before] : [Math.max(before, after), Math.min(before, after)]) {
    const t = wall - off;
    if (tzOffsetMs(t, tz) === off) return t;
  }
  // In a gap: neither offset maps back to this wall time; the pre-change offset lands after the gap.
  return wall - before;
}

function parseHhMm(s: string): { hh: number; mm: number } {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  if (!m) throw new Error(`start: expected a local time "HH:MM", got ${JSON.stringify(s)}`);
  return { hh: Number(m[1]), mm: Number(m[2]) };
}

/** Why a schedule is invalid (naming the field), or null. */
export function scheduleError(s: MaintenanceSchedule): string | null {
  if (s.kind === 'once') return s.endsAt > s.startsAt ? null : 'ends_at: expected a time after starts_at';
  if (!isTimezone(s.timezone)) return `timezone: expected an IANA timezone name such as Europe/Amsterdam, got ${JSON.stringify(s.timezone)}`;
  if (!(Number.isInteger(s.durationMs) && s.durationMs > 0 && s.durationMs <= 7 * DAY_MS)) return 'duration: expected a duration from 1 ms to 7 days';
  if (s.kind === 'weekly') {
    if (s.weekdays.length === 0 || s.weekdays.some((d) => !Number.isInteger(d) || d < 0 || d > 6)) return 'weekdays: expected one or more of sun, mon, tue, wed, thu, fri, sat';
    try {
      parseHhMm(s.start);
    } catch (err) {
      return (err as Error).message;
    }
    return null;
  }
  try {
    CronExpressionParser.parse(s.expression, { tz: s.timezone });
    return null;
  } catch (err) {
    return `cron: expected a cron expression (minute hour day month weekday): ${(err as Error).message}`;
  }
}

/** Occurrences that overlap [from, to), ordered by start. */
export function occurrencesBetween(s: MaintenanceSchedule, from: number, to: number): Occurrence[] {
  if (to <= from) return [];
  if (s.kind === 'once') return s.startsAt < to && s.endsAt > from ? [{ start: s.startsAt, end: s.endsAt }] : [];
  const out: Occurrence[] = [];
  const earliest = from - s.durationMs;
  if (s.kind === 'weekly') {
    const { hh, mm } = parseHhMm(s.start);
    const days = new Set(s.weekdays);
    const first = localParts(earliest - DAY_MS, s.timezone);
    // Walk local calendar days (Date.UTC normalises day overflow into the next month).
    for (let i = 0; ; i++) {
      const day = new Date(Date.UTC(first.y, first.m - 1, first.d + i));
      const start = zonedToUtc(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), hh, mm, s.timezone);
      if (start >= to) break;
      if (!days.has(day.getUTCDay())) continue;
      const end = start + s.durationMs;
      if (end > from) out.push({ start, end });
    }
    return out;
  }
  const it = CronExpressionParser.parse(s.expression, { tz: s.timezone, currentDate: new Date(earliest) });
  for (;;) {
    const start = it.next().getTime();
    if (start >= to) break;
    const end = start + s.durationMs;
    if (end > from) out.push({ start, end });
  }
  return out;
}

/** The occurrence in effect at `at` (start ≤ at < end), or null. Overlapping occurrences: the one ending last. */
export function activeAt(s: MaintenanceSchedule, at: number): Occurrence | null {
  let best: Occurrence | null = null;
  for (const o of occurrencesBetween(s, at, at + 1)) if (o.start <= at && at < o.end && (!best || o.end > best.end)) best = o;
  return best;
}

/** The next occurrence starting after `at`, looking at most `horizonMs` ahead. */
export function nextAfter(s: MaintenanceSchedule, at: number, horizonMs = 400 * DAY_MS): Occurrence | null {
  return occurrencesBetween(s, at, at + horizonMs).find((o) => o.start > at) ?? null;
}

/** Merges overlapping or touching intervals (input in any order). */
export function mergeIntervals(xs: readonly Occurrence[]): Occurrence[] {
  const sorted = [...xs].sort((a, b) => a.start - b.start);
  const out: Occurrence[] = [];
  for (const x of sorted) {
    const last = out[out.length - 1];
    if (last && x.start <= last.end) last.end = Math.max(last.end, x.end);
    else out.push({ ...x });
  }
  return out;
}
