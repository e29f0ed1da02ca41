/**
 * Pickers shared by the status-page, maintenance and alert-rule forms: monitors (from MonitorsService
 * ListMonitors, every page) and a checkbox list over any named items, filtered by a search box.
 */
import { useState } from 'react';
import { rpc } from './api';
import { useLoad, type Loaded } from './hooks';
import type { ListMonitorsResponse } from './types';

export interface Named {
  id: string;
  name: string;
}

/** At most this many monitors are read for a picker (20 pages of 1000). */
const MAX_PAGES = 20;

/** Every monitor's id and name (system-owned ones left out), read page by page. */
export function useMonitorNames(): Loaded<Named[]> {
  return useLoad(async () => {
    const out: Named[] = [];
    let token = '';
    for (let i = 0; i < MAX_PAGES; i++) {
      const r = await rpc<ListMonitorsResponse>('MonitorsService', 'ListMonitors', { limit: 1000, pageToken: token });
      for (const m of r.monitors ?? []) if (!(m.owner ?? '').startsWith('system:')) out.push({ id: m.id, name: m.name });
      token = r.nextPageToken ?? '';
      if (token === '') break;
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }, []);
}

/** How many unselected matches a picker lists at once (the search box narrows the rest). */
const SHOWN = 50;

/**
 * Checkboxes over `items`, selected ones first; ids that are selected but not among the items (a deleted
 * monitor) stay listed by id so they can be unticked.
 */
export function CheckList({ label, items, selected, onChange, disabled = false }: { label: string; items: readonly Named[]; selected: readonly string[]; onChange: (ids: string[]) => void; disabled?: boolean }) {
  const [q, setQ] = useState('');
  const sel = new Set(selected);
  const byId = new Map(items.map((i) => [i.id, i]));
  const needle = q.trim().toLowerCase();
  const chosen = selected.map((id) => byId.get(id) ?? { id, name: id });
  const rest = items.filter((i) => !sel.has(i.id) && (needle === '' || i.name.toLowerCase().includes(needle) || i.id.toLowerCase().includes(needle)));
  const toggle = (id: string, on: boolean) => onChange(on ? [...selected, id] : selected.filter((x) => x !== id));
  return (
    <fieldset className="picker" aria-label={label}>
      <legend>{label}</legend>
      {items.length > 8 && <input type="search" aria-label={`Search ${label}`} placeholder="search" value={q} onChange={(e) => setQ(e.target.value)} />}
      <div className="picker-list">
        {[...chosen, ...rest.slice(0, SHOWN)].map((i) => (
          <label key={i.id} className="inline">
            <input type="checkbox" disabled={disabled} checked={sel.has(i.id)} onChange={(e) => toggle(i.id, e.target.checked)} /> {i.name}
            {i.name !== i.id && <small className="muted"> {i.id}</small>}
          </label>
        ))}
        {rest.length > SHOWN && <small className="muted">{rest.length - SHOWN} more: search to narrow</small>}
        {items.length === 0 && chosen.length === 0 && <small className="muted">none</small>}
      </div>
    </fieldset>
  );
}

/** A validation message at its field (role="alert", data-field names the field key). */
export function FieldError({ field, at }: { field: string; at: { field: string | null; message: string } | null }) {
  if (at === null || at.field !== field) return null;
  return (
    <span className="field-error" role="alert" data-field={field}>
      {at.message}
    </span>
  );
}

/** A message that belongs to no field of the form. */
export function FormError({ at }: { at: { field: string | null; message: string } | null }) {
  if (at === null || at.field !== null) return null;
  return (
    <p className="error" role="alert">
      {at.message}
    </p>
  );
}
