/**
 * Maintenance windows (MaintenanceService): active, upcoming and past windows, worked out in the browser with
 * the server's window maths; editors and admins create one-off, weekly (weekdays + start + duration + IANA
 * timezone) and cron windows for monitors, status-page groups or whole status pages, edit and delete them.
 * The server validates; its message is shown at the field it names.
 */
import { useState, type FormEvent } from 'react';
import { ApiError, num, rpc } from '../lib/api';
import { placeError, type Placed } from '../lib/fields';
import { when } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { browserTimezone, describeSchedule, epochToLocal, groupWindows, localToEpoch, WEEKDAYS, type Classified, type Phase, type WireWindow } from '../lib/maintenance';
import { CheckList, FieldError, FormError, useMonitorNames, type Named } from '../lib/pickers';
import { atLeast } from '../lib/roles';
import type { PageProps } from './index';
import type { StatusPage } from './StatusPages';

const FIELDS = [
  'title',
  'description',
  'schedule',
  'schedule.kind',
  'schedule.starts_at',
  'schedule.ends_at',
  'schedule.weekdays',
  'schedule.start',
  'schedule.duration',
  'schedule.duration_ms',
  'schedule.timezone',
  'schedule.expression',
  'schedule.cron',
  'targets',
] as const;

const TIMEZONES: readonly string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
})();

interface Choices {
  monitors: readonly Named[];
  groups: readonly Named[];
  pages: readonly Named[];
}

function WindowForm({ window: w, choices, onSaved, onCancel }: { window?: WireWindow; choices: Choices; onSaved: () => void; onCancel: () => void }) {
  const s = w?.schedule;
  const [title, setTitle] = useState(w?.title ?? '');
  const [description, setDescription] = useState(w?.description ?? '');
  const [kind, setKind] = useState(s?.kind ?? 'once');
  const [timezone, setTimezone] = useState(s?.timezone || browserTimezone());
  const [startsAt, setStartsAt] = useState(s?.kind === 'once' ? epochToLocal(num(s.startsAtMs), browserTimezone()) : '');
  const [endsAt, setEndsAt] = useState(s?.kind === 'once' ? epochToLocal(num(s.endsAtMs), browserTimezone()) : '');
  const [weekdays, setWeekdays] = useState<number[]>(s?.weekdays ?? []);
  const [start, setStart] = useState(s?.start ?? '02:00');
  const [expression, setExpression] = useState(s?.expression ?? '');
  const [durationMin, setDurationMin] = useState(s && s.kind !== 'once' ? String(num(s.durationMs) / 60_000) : '60');
  const [monitorIds, setMonitorIds] = useState<string[]>(w?.targets?.monitorIds ?? []);
  const [groups, setGroups] = useState<string[]>(w?.targets?.groups ?? []);
  const [pages, setPages] = useState<string[]>(w?.targets?.statusPages ?? []);
  const [error, setError] = useState<Placed | null>(null);
  const [busy, setBusy] = useState(false);

  const schedule = () => {
    const durationMs = String(Math.round(Number(durationMin) * 60_000) || 0);
    // A one-off window's local times are read in the chosen timezone (the browser's by default).
    if (kind === 'once') return { kind, startsAtMs: String(localToEpoch(startsAt, timezone) ?? 0), endsAtMs: String(localToEpoch(endsAt, timezone) ?? 0) };
    if (kind === 'weekly') return { kind, weekdays: [...weekdays].sort(), start, durationMs, timezone };
    return { kind, expression, durationMs, timezone };
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { window: { id: w?.id ?? '', title, description, schedule: schedule(), targets: { monitorIds, groups, statusPages: pages } } };
      await rpc('MaintenanceService', 'PutWindow', body);
      onSaved();
    } catch (err) {
      setError(placeError(err instanceof ApiError || err instanceof Error ? err.message : String(err), 'window', FIELDS));
    } finally {
      setBusy(false);
    }
  };
  const groupItems = [...choices.groups, ...groups.filter((g) => !choices.groups.some((x) => x.id === g)).map((g) => ({ id: g, name: g }))];
  return (
    <form className="card" aria-label={w ? 'Edit maintenance window' : 'New maintenance window'} onSubmit={(e) => void submit(e)}>
      <h2>{w ? `Edit ${w.title ?? w.id}` : 'New maintenance window'}</h2>
      <div className="form">
        <label>
          Title
          <input value={title} onChange={(e) => setTitle(e.target.value)} />
          <FieldError field="title" at={error} />
        </label>
        <label>
          Description
          <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
          <FieldError field="description" at={error} />
        </label>
        <label>
          Schedule
          <select value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="once">one-off</option>
            <option value="weekly">weekly</option>
            <option value="cron">cron</option>
          </select>
          <FieldError field="schedule" at={error} />
          <FieldError field="schedule.kind" at={error} />
        </label>
        <label>
          Timezone
          <input value={timezone} onChange={(e) => setTimezone(e.target.value)} list="vantage-timezones" placeholder="Europe/Amsterdam" />
          <FieldError field="schedule.timezone" at={error} />
        </label>
        {kind === 'once' && (
          <>
            <label>
              Starts
              <input type="datetime-local" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} />
              <FieldError field="schedule.starts_at" at={error} />
            </label>
            <label>
              Ends
              <input type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} />
              <FieldError field="schedule.ends_at" at={error} />
            </label>
          </>
        )}
        {kind === 'weekly' && (
          <>
            <fieldset className="picker" aria-label="Weekdays">
              <legend>Weekdays</legend>
              <div className="row">
                {WEEKDAYS.map((d, i) => (
                  <label key={d} className="inline">
                    <input type="checkbox" checked={weekdays.includes(i)} onChange={(e) => setWeekdays((ws) => (e.target.checked ? [...ws, i] : ws.filter((x) => x !== i)))} /> {d}
                  </label>
                ))}
              </div>
              <FieldError field="schedule.weekdays" at={error} />
            </fieldset>
            <label>
              Start (local time)
              <input type="time" value={start} onChange={(e) => setStart(e.target.value)} />
              <FieldError field="schedule.start" at={error} />
            </label>
          </>
        )}
        {kind === 'cron' && (
          <label>
            Cron expression
            <input value={expression} onChange={(e) => setExpression(e.target.value)} placeholder="0 3 * * 0" />
            <FieldError field="schedule.expression" at={error} />
            <FieldError field="schedule.cron" at={error} />
          </label>
        )}
        {kind !== 'once' && (
          <label>
            Duration (minutes)
            <input value={durationMin} onChange={(e) => setDurationMin(e.target.value)} inputMode="decimal" />
            <FieldError field="schedule.duration" at={error} />
            <FieldError field="schedule.duration_ms" at={error} />
          </label>
        )}
      </div>
      <datalist id="vantage-timezones">
        {TIMEZONES.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
      <h2>Applies to</h2>
      <FieldError field="targets" at={error} />
      <div className="form">
        <CheckList label="Monitors" items={choices.monitors} selected={monitorIds} onChange={setMonitorIds} />
        <CheckList label="Status-page groups" items={groupItems} selected={groups} onChange={setGroups} />
        <CheckList label="Whole status pages" items={choices.pages} selected={pages} onChange={setPages} />
      </div>
      <FormError at={error} />
      <div className="row" style={{ marginTop: 10 }}>
        <button type="submit" disabled={busy}>
          {w ? 'Save' : 'Create window'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

const HEADINGS: Record<Phase, string> = { active: 'Active', upcoming: 'Upcoming', past: 'Past' };

function occurrenceText(c: Classified): string {
  const o = c.occurrence;
  if (!o) return '–';
  if (c.phase === 'active') return `until ${when(o.end)}`;
  if (c.phase === 'upcoming') return `${when(o.start)} – ${when(o.end)}`;
  return `ended ${when(o.end)}`;
}

export function MaintenancePage({ session }: PageProps) {
  const canEdit = atLeast(session.user.role, 'editor');
  const list = useLoad(async () => ({ windows: (await rpc<{ windows?: WireWindow[] }>('MaintenanceService', 'ListWindows')).windows ?? [], now: Date.now() }), []);
  const pagesList = useLoad(() => rpc<{ pages?: StatusPage[] }>('StatusPagesService', 'ListPages'), []);
  const monitors = useMonitorNames();
  const [editing, setEditing] = useState<WireWindow | 'new' | null>(null);
  const [actionError, setActionError] = useState('');
  const names = new Map((monitors.data ?? []).map((m) => [m.id, m.name]));
  const pages = pagesList.data?.pages ?? [];
  const groupNames = [...new Set(pages.flatMap((p) => (p.groups ?? []).map((g) => g.name ?? '')).filter(Boolean))].sort();
  const choices: Choices = { monitors: monitors.data ?? [], groups: groupNames.map((g) => ({ id: g, name: g })), pages: pages.map((p) => ({ id: p.slug, name: p.title || p.slug })) };
  const grouped = list.data ? groupWindows(list.data.windows, list.data.now) : null;
  const remove = async (w: WireWindow) => {
    if (!window.confirm(`Delete maintenance window ${w.title ?? w.id}?`)) return;
    setActionError('');
    try {
      await rpc('MaintenanceService', 'DeleteWindow', { id: w.id });
      list.reload();
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err));
    }
  };
  const targetsText = (w: WireWindow) =>
    [
      ...(w.targets?.monitorIds ?? []).map((id) => names.get(id) ?? id),
      ...(w.targets?.groups ?? []).map((g) => `group ${g}`),
      ...(w.targets?.statusPages ?? []).map((p) => `page ${p}`),
    ].join(', ') || '–';
  return (
    <>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h1>Maintenance</h1>
        {canEdit && editing === null && <button onClick={() => setEditing('new')}>New maintenance window</button>}
      </div>
      {editing !== null && (
        <WindowForm
          key={editing === 'new' ? '' : editing.id}
          window={editing === 'new' ? undefined : editing}
          choices={choices}
          onCancel={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            list.reload();
          }}
        />
      )}
      {list.error !== '' && <p className="error">{list.error}</p>}
      {actionError !== '' && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
      {grouped &&
        (['active', 'upcoming', 'past'] as const).map((phase) => (
          <section key={phase}>
            <h2>{HEADINGS[phase]}</h2>
            {grouped[phase].length === 0 ? (
              <p className="muted">None.</p>
            ) : (
              <table aria-label={`${phase} maintenance windows`}>
                <thead>
                  <tr>
                    <th>Title</th>
                    <th>Schedule</th>
                    <th>{phase === 'active' ? 'Now' : phase === 'upcoming' ? 'Next' : 'Last'}</th>
                    <th>Applies to</th>
                    {canEdit && <th />}
                  </tr>
                </thead>
                <tbody>
                  {grouped[phase].map((c) => (
                    <tr key={c.window.id} data-window={c.window.id}>
                      <td>
                        {c.window.title}
                        {c.window.description ? <small className="muted"> {c.window.description}</small> : null}
                      </td>
                      <td>{describeSchedule(c.window.schedule)}</td>
                      <td>{occurrenceText(c)}</td>
                      <td style={{ whiteSpace: 'normal' }}>{targetsText(c.window)}</td>
                      {canEdit && (
                        <td>
                          <button onClick={() => setEditing(c.window)}>Edit</button>{' '}
                          <button className="secondary" onClick={() => void remove(c.window)}>
                            Delete
                          </button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        ))}
    </>
  );
}
