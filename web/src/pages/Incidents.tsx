/**
 * Incidents: the list (open first), one incident with its timeline, and — for editors and admins — acknowledge,
 * a "New incident" form (manual incidents) and an update form (status + message). Viewers only read. Both pages
 * read again when the live stream's `incidents` event says something changed.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, num, rpc } from '../lib/api';
import { useLive, useLoad } from '../lib/hooks';
import { atLeast } from '../lib/roles';
import { href, navigate } from '../lib/router';
import { when } from '../lib/format';
import type { PageProps } from './index';

interface TimelineEntry {
  atMs?: string;
  kind?: string;
  status?: string;
  message?: string;
}
export interface Incident {
  id: string;
  kind?: string;
  title?: string;
  status?: string;
  impact?: string;
  monitorIds?: string[];
  statusPageSlug?: string;
  startedAtMs?: string;
  resolvedAtMs?: string;
  acknowledgedAtMs?: string;
  acknowledgedBy?: string;
  timeline?: TimelineEntry[];
}

const STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
const IMPACTS = ['none', 'minor', 'major', 'critical'] as const;

const isOpen = (i: Incident): boolean => num(i.resolvedAtMs) === 0 && i.status !== 'resolved';

/** Open incidents first, then newest first within each group. */
export function sortIncidents(list: Incident[]): Incident[] {
  return [...list].sort((a, b) => Number(isOpen(b)) - Number(isOpen(a)) || num(b.startedAtMs) - num(a.startedAtMs));
}

const errText = (e: unknown): string => (e instanceof ApiError || e instanceof Error ? e.message : String(e));

function NewIncidentForm({ onSaved, onCancel }: { onSaved: (i: Incident) => void; onCancel: () => void }) {
  const [title, setTitle] = useState('');
  const [status, setStatus] = useState<string>('investigating');
  const [impact, setImpact] = useState<string>('minor');
  const [monitors, setMonitors] = useState('');
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const monitorIds = monitors.split(',').map((m) => m.trim()).filter(Boolean);
      const r = await rpc<{ incident: Incident }>('AlertsService', 'CreateIncident', { title, status, impact, monitorIds, message });
      onSaved(r.incident);
    } catch (err) {
      setError(errText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" aria-label="New incident" onSubmit={(e) => void submit(e)}>
      <div className="form">
        <label>
          Title
          <input value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Impact
          <select value={impact} onChange={(e) => setImpact(e.target.value)}>
            {IMPACTS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Monitor IDs (comma-separated)
          <input value={monitors} onChange={(e) => setMonitors(e.target.value)} />
        </label>
        <label>
          Message
          <textarea value={message} onChange={(e) => setMessage(e.target.value)} />
        </label>
      </div>
      {error !== '' && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        Create incident
      </button>{' '}
      <button type="button" className="secondary" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

function UpdateForm({ incident, onSaved }: { incident: Incident; onSaved: (i: Incident) => void }) {
  const [status, setStatus] = useState<string>(incident.status && incident.status !== '' ? incident.status : 'investigating');
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r = await rpc<{ incident: Incident }>('AlertsService', 'UpdateIncident', { id: incident.id, status, message });
      setMessage('');
      onSaved(r.incident);
    } catch (err) {
      setError(errText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" aria-label="Post update" onSubmit={(e) => void submit(e)}>
      <div className="form">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Message
          <textarea value={message} onChange={(e) => setMessage(e.target.value)} />
        </label>
      </div>
      {error !== '' && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        Post update
      </button>
    </form>
  );
}

export function IncidentsPage({ session }: PageProps) {
  const canEdit = atLeast(session.user.role, 'editor');
  const [creating, setCreating] = useState(false);
  const list = useLoad(() => rpc<{ incidents?: Incident[] }>('AlertsService', 'ListIncidents', { limit: 200 }), []);
  // The live stream says when incidents opened, resolved or changed: the list is read again.
  useLive('incidents', list.reload);
  const incidents = sortIncidents(list.data?.incidents ?? []);
  return (
    <>
      <h1>Incidents</h1>
      {canEdit && !creating && <button onClick={() => setCreating(true)}>New incident</button>}
      {creating && (
        <NewIncidentForm
          onCancel={() => setCreating(false)}
          onSaved={(i) => {
            setCreating(false);
            navigate(`/incidents/${encodeURIComponent(i.id)}`);
          }}
        />
      )}
      {list.error !== '' && <p className="error">{list.error}</p>}
      {list.data && incidents.length === 0 && <p className="muted">No incidents.</p>}
      {incidents.length > 0 && (
        <table aria-label="incidents">
          <thead>
            <tr>
              <th>Title</th>
              <th>Status</th>
              <th>Impact</th>
              <th>Monitors</th>
              <th>Started</th>
              <th>Resolved</th>
            </tr>
          </thead>
          <tbody>
            {incidents.map((i) => (
              <tr key={i.id} data-incident={i.id} className={isOpen(i) ? 'open' : ''}>
                <td>
                  <a
                    href={href(`/incidents/${encodeURIComponent(i.id)}`)}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(`/incidents/${encodeURIComponent(i.id)}`);
                    }}
                  >
                    {i.title || i.id}
                  </a>
                  {i.kind === 'manual' && <small className="muted"> (manual)</small>}
                </td>
                <td>{i.status}</td>
                <td>{i.impact}</td>
                <td>{(i.monitorIds ?? []).join(', ') || '–'}</td>
                <td>{when(i.startedAtMs)}</td>
                <td>{when(i.resolvedAtMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function IncidentDetailPage({ session, params }: PageProps) {
  const canEdit = atLeast(session.user.role, 'editor');
  const id = params.id ?? '';
  const [actionError, setActionError] = useState('');
  const [override, setOverride] = useState<Incident | null>(null);
  const got = useLoad(() => rpc<{ incident: Incident }>('AlertsService', 'GetIncident', { id }), [id]);
  useLive('incidents', got.reload);
  // A fresh read replaces what an action answered.
  useEffect(() => setOverride(null), [got.data]);
  const inc = override ?? got.data?.incident ?? null;
  const acknowledge = async () => {
    setActionError('');
    try {
      setOverride((await rpc<{ incident: Incident }>('AlertsService', 'AcknowledgeIncident', { id })).incident);
    } catch (err) {
      setActionError(errText(err));
    }
  };
  if (got.error !== '') return <h1 className="error">Incident {id}: {got.error}</h1>;
  if (!inc) return <h1 className="muted">Loading…</h1>;
  const acked = num(inc.acknowledgedAtMs) > 0;
  return (
    <>
      <h1>{inc.title || inc.id}</h1>
      <div className="card">
        <p>
          Status <strong>{inc.status}</strong> · impact <strong>{inc.impact}</strong> · {inc.kind}
        </p>
        <p>
          Monitors: {(inc.monitorIds ?? []).join(', ') || '–'} · started {when(inc.startedAtMs)} · resolved {when(inc.resolvedAtMs)}
        </p>
        <p data-ack={acked ? 'yes' : 'no'}>{acked ? `Acknowledged by ${inc.acknowledgedBy || '?'} at ${when(inc.acknowledgedAtMs)}` : 'Not acknowledged'}</p>
        {canEdit && !acked && isOpen(inc) && <button onClick={() => void acknowledge()}>Acknowledge</button>}
        {actionError !== '' && (
          <p className="error" role="alert">
            {actionError}
          </p>
        )}
      </div>
      <h2>Timeline</h2>
      <ol aria-label="timeline">
        {(inc.timeline ?? []).map((e, n) => (
          <li key={n}>
            <small className="muted">{when(e.atMs)}</small> <strong>{e.status || e.kind}</strong> {e.message}
          </li>
        ))}
      </ol>
      {canEdit && <UpdateForm incident={inc} onSaved={setOverride} />}
    </>
  );
}
