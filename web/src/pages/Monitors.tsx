/**
 * Monitors list: server-side search, filters and pages (10 000 monitors stay fast: one page of 50 at a time),
 * with status, 24 h uptime and the last 90 results as bars. Editors and admins get "New monitor".
 */
import { useState } from 'react';
import { rpc } from '../lib/api';
import { Bars, ms, pct, StatusDot } from '../lib/format';
import { useLive, useLoad } from '../lib/hooks';
import { href, navigate } from '../lib/router';
import type { ListMonitorsResponse, Monitor } from '../lib/types';
import { atLeast } from '../lib/roles';
import type { PageProps } from './index';
import { MonitorForm } from './MonitorForm';

const PAGE = 50;

export function barsOf(recent: readonly string[] | undefined, n = 90): Array<{ cls: string; title: string }> {
  const r = [...(recent ?? [])].reverse();
  const pad = Array.from({ length: Math.max(0, n - r.length) }, () => ({ cls: '', title: 'no result' }));
  return [...pad, ...r.map((s) => ({ cls: s === 'up' ? 'up' : 'down', title: s }))];
}

export function MonitorsPage({ session, query }: PageProps) {
  const [search, setSearch] = useState(query.get('q') ?? '');
  const [applied, setApplied] = useState(query.get('q') ?? '');
  const [status, setStatus] = useState('');
  const [region, setRegion] = useState('');
  const [type, setType] = useState('');
  const [tokens, setTokens] = useState<string[]>(['']);
  const [creating, setCreating] = useState(false);
  const [bump, setBump] = useState(0);
  const token = tokens[tokens.length - 1]!;
  const list = useLoad(
    () =>
      rpc<ListMonitorsResponse>('MonitorsService', 'ListMonitors', {
        limit: PAGE,
        pageToken: token,
        search: applied,
        statuses: status === '' ? [] : [status],
        region,
        type,
        withSummary: true,
      }),
    [token, applied, status, region, type, bump],
  );
  // A result for a monitor on this page refreshes it (at most what the page shows).
  useLive<{ monitorId: string }>('result', (r) => {
    if (list.data?.monitors?.some((m) => m.id === r.monitorId)) setBump((b) => b + 1);
  });
  const reset = () => setTokens(['']);
  const canEdit = atLeast(session.user.role, 'editor');
  const summaries = new Map((list.data?.summaries ?? []).map((s) => [s.monitorId, s]));

  return (
    <div>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h1>Monitors</h1>
        {canEdit && !creating && <button onClick={() => setCreating(true)}>New monitor</button>}
      </div>
      {creating && (
        <MonitorForm
          onCancel={() => setCreating(false)}
          onSaved={(m: Monitor) => {
            setCreating(false);
            navigate(`/monitors/${m.id}`);
          }}
        />
      )}
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(search);
          reset();
        }}
      >
        <label>
          Search
          <input type="search" placeholder="name or URL" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => (setStatus(e.target.value), reset())}>
            <option value="">any</option>
            {['up', 'down', 'paused', 'pending'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Region
          <input value={region} onChange={(e) => (setRegion(e.target.value), reset())} placeholder="any" size={10} />
        </label>
        <label>
          Type
          <select value={type} onChange={(e) => (setType(e.target.value), reset())}>
            <option value="">any</option>
            {['http', 'tcp', 'dns', 'tls'].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
        <span className="muted">{list.data ? `${list.data.total ?? 0} monitors` : ''}</span>
      </form>
      {list.error !== '' && <p className="error">{list.error}</p>}
      <table aria-label="monitors">
        <thead>
          <tr>
            <th>Status</th>
            <th>Name</th>
            <th>Type</th>
            <th>Target</th>
            <th>Uptime 24 h</th>
            <th>Last</th>
            <th>History</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.monitors ?? []).map((m) => {
            const s = summaries.get(m.id);
            return (
              <tr key={m.id}>
                <td>
                  <StatusDot status={s?.status ?? 'pending'} />
                </td>
                <td>
                  <a href={href(`/monitors/${m.id}`)} onClick={(e) => (e.preventDefault(), navigate(`/monitors/${m.id}`))}>
                    {m.name}
                  </a>
                </td>
                <td>{m.type ?? 'http'}</td>
                <td className="muted" style={{ maxWidth: 280, overflow: 'hidden', textOverflow: 'ellipsis' }}>
                  {m.url}
                </td>
                <td>{pct(s?.uptime24hPct)}</td>
                <td>{ms(s?.lastTotalMs)}</td>
                <td>
                  <Bars items={barsOf(s?.recent)} label={`last results of ${m.name}`} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="row" style={{ marginTop: 10 }}>
        <button className="secondary" disabled={tokens.length === 1} onClick={() => setTokens((t) => t.slice(0, -1))}>
          Previous
        </button>
        <span className="muted">Page {tokens.length}</span>
        <button className="secondary" disabled={!list.data?.nextPageToken} onClick={() => setTokens((t) => [...t, list.data!.nextPageToken!])}>
          Next
        </button>
      </div>
    </div>
  );
}
