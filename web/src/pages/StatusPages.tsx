/**
 * Status pages (StatusPagesService): the list with a link to each public page (/status/<slug>) and, for editors
 * and admins, a form to create or edit one (slug, title, description, groups of monitors picked from the monitor
 * list, "show targets") and Delete. The server validates; its message is shown at the field it names.
 */
import { useState, type FormEvent } from 'react';
import { ApiError, rpc } from '../lib/api';
import { indexIn, placeError, type Placed } from '../lib/fields';
import { when } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { CheckList, FieldError, FormError, useMonitorNames, type Named } from '../lib/pickers';
import { atLeast } from '../lib/roles';
import { href } from '../lib/router';
import type { PageProps } from './index';

export interface StatusPageGroup {
  name?: string;
  monitorIds?: string[];
}
export interface StatusPage {
  slug: string;
  title?: string;
  description?: string;
  groups?: StatusPageGroup[];
  showTargets?: boolean;
  createdAtMs?: string;
  updatedAtMs?: string;
}

const FIELDS = ['slug', 'title', 'description', 'groups', 'show_targets'] as const;

/** The public page's address (served without login on the same listener). */
export const publicUrl = (slug: string): string => href(`/status/${encodeURIComponent(slug)}`);

interface GroupDraft {
  key: number;
  name: string;
  monitorIds: string[];
}

function PageForm({ page, monitors, taken, onSaved, onCancel }: { page?: StatusPage; monitors: readonly Named[]; taken: ReadonlySet<string>; onSaved: (p: StatusPage) => void; onCancel: () => void }) {
  const [slug, setSlug] = useState(page?.slug ?? '');
  const [title, setTitle] = useState(page?.title ?? '');
  const [description, setDescription] = useState(page?.description ?? '');
  const [showTargets, setShowTargets] = useState(page?.showTargets ?? false);
  const [seq, setSeq] = useState(page?.groups?.length ?? 1);
  const [groups, setGroups] = useState<GroupDraft[]>(
    page ? (page.groups ?? []).map((g, i) => ({ key: i, name: g.name ?? '', monitorIds: g.monitorIds ?? [] })) : [{ key: 0, name: 'Services', monitorIds: [] }],
  );
  const [error, setError] = useState<(Placed & { group: number | null }) | null>(null);
  const [busy, setBusy] = useState(false);
  const setGroup = (key: number, patch: Partial<GroupDraft>) => setGroups((gs) => gs.map((g) => (g.key === key ? { ...g, ...patch } : g)));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // PutPage replaces a page with the same slug: a new page must not overwrite one by accident.
    if (!page && taken.has(slug.trim())) return setError({ field: 'slug', message: `slug: a status page "${slug.trim()}" exists; edit it instead`, group: null });
    setBusy(true);
    setError(null);
    try {
      const body = { page: { slug: slug.trim(), title, description, showTargets, groups: groups.map((g) => ({ name: g.name, monitorIds: g.monitorIds })) } };
      onSaved((await rpc<{ page: StatusPage }>('StatusPagesService', 'PutPage', body)).page);
    } catch (err) {
      const msg = err instanceof ApiError || err instanceof Error ? err.message : String(err);
      setError({ ...placeError(msg, 'page', FIELDS), group: indexIn(msg, 'page.groups') });
    } finally {
      setBusy(false);
    }
  };
  const groupError = (i: number) =>
    error !== null && error.field === 'groups' && (error.group === i || (error.group === null && i === 0)) ? (
      <span className="field-error" role="alert" data-field="groups">
        {error.message}
      </span>
    ) : null;

  return (
    <form className="card" aria-label={page ? 'Edit status page' : 'New status page'} onSubmit={(e) => void submit(e)}>
      <h2>{page ? `Edit ${page.slug}` : 'New status page'}</h2>
      <div className="form">
        <label>
          Slug
          <input value={slug} onChange={(e) => setSlug(e.target.value)} readOnly={page !== undefined} placeholder="public" />
          <FieldError field="slug" at={error} />
        </label>
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
        <label className="inline">
          <input type="checkbox" checked={showTargets} onChange={(e) => setShowTargets(e.target.checked)} /> Show target URLs
          <FieldError field="show_targets" at={error} />
        </label>
      </div>
      <h2>Groups</h2>
      {groups.length === 0 && <p className="muted">No groups: the page shows no monitors.</p>}
      {groups.map((g, i) => (
        <div key={g.key} className="card group" data-group={i}>
          <div className="row">
            <label>
              Group name
              <input value={g.name} onChange={(e) => setGroup(g.key, { name: e.target.value })} />
            </label>
            <button type="button" className="secondary" onClick={() => setGroups((gs) => gs.filter((x) => x.key !== g.key))}>
              Remove group
            </button>
          </div>
          {groupError(i)}
          <CheckList label={`Monitors of ${g.name || `group ${i + 1}`}`} items={monitors} selected={g.monitorIds} onChange={(ids) => setGroup(g.key, { monitorIds: ids })} />
        </div>
      ))}
      <button
        type="button"
        className="secondary"
        onClick={() => {
          setGroups((gs) => [...gs, { key: seq, name: '', monitorIds: [] }]);
          setSeq((n) => n + 1);
        }}
      >
        Add group
      </button>
      <FormError at={error} />
      <div className="row" style={{ marginTop: 10 }}>
        <button type="submit" disabled={busy}>
          {page ? 'Save' : 'Create status page'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function StatusPagesPage({ session }: PageProps) {
  const canEdit = atLeast(session.user.role, 'editor');
  const list = useLoad(() => rpc<{ pages?: StatusPage[] }>('StatusPagesService', 'ListPages'), []);
  const monitors = useMonitorNames();
  const [editing, setEditing] = useState<StatusPage | 'new' | null>(null);
  const [actionError, setActionError] = useState('');
  const names = new Map((monitors.data ?? []).map((m) => [m.id, m.name]));
  const pages = [...(list.data?.pages ?? [])].sort((a, b) => a.slug.localeCompare(b.slug));
  const remove = async (slug: string) => {
    if (!window.confirm(`Delete status page ${slug} and its subscribers?`)) return;
    setActionError('');
    try {
      await rpc('StatusPagesService', 'DeletePage', { slug });
      list.reload();
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h1>Status pages</h1>
        {canEdit && editing === null && <button onClick={() => setEditing('new')}>New status page</button>}
      </div>
      {editing !== null && (
        <PageForm
          key={editing === 'new' ? '' : editing.slug}
          page={editing === 'new' ? undefined : editing}
          monitors={monitors.data ?? []}
          taken={new Set(pages.map((p) => p.slug))}
          onCancel={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            list.reload();
          }}
        />
      )}
      {monitors.error !== '' && <p className="error">Monitors: {monitors.error}</p>}
      {list.error !== '' && <p className="error">{list.error}</p>}
      {actionError !== '' && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
      {list.data && pages.length === 0 && <p className="muted">No status pages.</p>}
      {pages.length > 0 && (
        <table aria-label="status pages">
          <thead>
            <tr>
              <th>Slug</th>
              <th>Title</th>
              <th>Groups</th>
              <th>Targets shown</th>
              <th>Updated</th>
              <th>Public page</th>
              {canEdit && <th />}
            </tr>
          </thead>
          <tbody>
            {pages.map((p) => (
              <tr key={p.slug} data-page={p.slug}>
                <td>{p.slug}</td>
                <td>{p.title}</td>
                <td style={{ whiteSpace: 'normal' }}>
                  {(p.groups ?? []).map((g, i) => (
                    <div key={i}>
                      <strong>{g.name}</strong>: {(g.monitorIds ?? []).map((id) => names.get(id) ?? id).join(', ') || '–'}
                    </div>
                  ))}
                </td>
                <td>{p.showTargets ? 'yes' : 'no'}</td>
                <td>{when(p.updatedAtMs)}</td>
                <td>
                  <a href={publicUrl(p.slug)} target="_blank" rel="noreferrer">
                    {publicUrl(p.slug)}
                  </a>
                </td>
                {canEdit && (
                  <td>
                    <button onClick={() => setEditing(p)}>Edit</button>{' '}
                    <button className="secondary" onClick={() => void remove(p.slug)}>
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
