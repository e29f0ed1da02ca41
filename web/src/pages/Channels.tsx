/**
 * Alert channels: the configured channels (the API masks secrets in settings) and, for editors+, "Send test",
 * "New channel", and Edit/Delete of the channels created through the API (server.yml ones are managed there).
 * Secrets are write-only: the form never shows a stored one; left blank it is kept (see lib/channels.ts).
 */
import { useState, type FormEvent } from 'react';
import { ApiError, rpc } from '../lib/api';
import { buildSettings, CHANNEL_FIELDS, CHANNEL_TYPES, hasStoredSecret, initialValues, isChannelType, parseSettings, SettingsError, type ChannelType } from '../lib/channels';
import { placeError, type Placed } from '../lib/fields';
import { useLoad } from '../lib/hooks';
import { FieldError, FormError } from '../lib/pickers';
import { atLeast } from '../lib/roles';
import type { PageProps } from './index';

export interface Channel {
  id: string;
  name?: string;
  type?: string;
  settingsJson?: string;
  isDefault?: boolean;
  enabled?: boolean;
  source?: string;
}

/** The masked settings as "key: value" pairs (the raw text if it is not a JSON object). */
function settingsText(json: string | undefined): string {
  if (!json) return '–';
  try {
    const o = JSON.parse(json) as Record<string, unknown>;
    return Object.entries(o)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(', ');
  } catch {
    return json;
  }
}

function ChannelForm({ channel, onSaved, onCancel }: { channel?: Channel; onSaved: () => void; onCancel: () => void }) {
  const stored = parseSettings(channel?.settingsJson);
  const storedType: ChannelType = channel && isChannelType(channel.type ?? '') ? (channel.type as ChannelType) : 'webhook';
  const [name, setName] = useState(channel?.name ?? '');
  const [type, setType] = useState<ChannelType>(storedType);
  const [values, setValues] = useState<Record<string, string>>(() => initialValues(storedType, stored));
  const [clear, setClear] = useState<Set<string>>(new Set());
  const [isDefault, setIsDefault] = useState(channel?.isDefault ?? false);
  const [enabled, setEnabled] = useState(channel?.enabled ?? true);
  const [error, setError] = useState<Placed | null>(null);
  const [busy, setBusy] = useState(false);
  const sameType = channel !== undefined && type === storedType;
  const fields = CHANNEL_FIELDS[type];
  const keys = ['name', 'type', 'settings', ...fields.map((f) => `settings.${f.key}`)];

  const changeType = (t: ChannelType) => {
    setType(t);
    setValues(initialValues(t, t === storedType ? stored : {}));
    setClear(new Set());
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    let settings: Record<string, unknown>;
    try {
      settings = buildSettings(type, values, { stored, sameType, clear });
    } catch (err) {
      if (err instanceof SettingsError) return setError(placeError(err.message, '', keys));
      throw err;
    }
    setBusy(true);
    try {
      await rpc('AlertsService', 'PutChannel', { channel: { id: channel?.id ?? '', name, type, settingsJson: JSON.stringify(settings), isDefault, enabled } });
      onSaved();
    } catch (err) {
      setError(placeError(err instanceof ApiError || err instanceof Error ? err.message : String(err), 'channel', keys));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" aria-label={channel ? 'Edit channel' : 'New channel'} onSubmit={(e) => void submit(e)} autoComplete="off">
      <h2>{channel ? `Edit ${channel.name ?? channel.id}` : 'New channel'}</h2>
      <div className="form">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} />
          <FieldError field="name" at={error} />
        </label>
        <label>
          Type
          <select value={type} onChange={(e) => changeType(e.target.value as ChannelType)}>
            {CHANNEL_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <FieldError field="type" at={error} />
        </label>
        {fields.map((f) => {
          const kept = f.secret === true && sameType && hasStoredSecret(stored, f.key);
          const set = (v: string) => setValues((x) => ({ ...x, [f.key]: v }));
          const value = values[f.key] ?? '';
          const placeholder = kept ? 'stored: leave blank to keep' : (f.placeholder ?? '');
          return (
            <div className="field" key={`${type}.${f.key}`}>
              <label>
                {f.label}
                {f.kind === 'select' ? (
                  <select value={value} onChange={(e) => set(e.target.value)}>
                    {(f.options ?? []).map((o) => (
                      <option key={o}>{o}</option>
                    ))}
                  </select>
                ) : f.kind === 'headers' ? (
                  <textarea rows={2} value={value} placeholder={placeholder} disabled={clear.has(f.key)} onChange={(e) => set(e.target.value)} />
                ) : (
                  <input type={f.secret ? 'password' : 'text'} autoComplete={f.secret ? 'new-password' : 'off'} value={value} placeholder={placeholder} disabled={clear.has(f.key)} onChange={(e) => set(e.target.value)} />
                )}
              </label>
              {kept && f.optional && (
                <label className="inline">
                  <input
                    type="checkbox"
                    checked={clear.has(f.key)}
                    onChange={(e) =>
                      setClear((c) => {
                        const n = new Set(c);
                        if (e.target.checked) n.add(f.key);
                        else n.delete(f.key);
                        return n;
                      })
                    }
                  />{' '}
                  <small className="muted">remove the stored {f.label.toLowerCase()}</small>
                </label>
              )}
              <FieldError field={`settings.${f.key}`} at={error} />
            </div>
          );
        })}
        <label className="inline">
          <input type="checkbox" checked={isDefault} onChange={(e) => setIsDefault(e.target.checked)} /> Default (used when a rule lists no channels)
        </label>
        <label className="inline">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
        </label>
      </div>
      <FieldError field="settings" at={error} />
      <FormError at={error} />
      <div className="row" style={{ marginTop: 10 }}>
        <button type="submit" disabled={busy}>
          {channel ? 'Save' : 'Create channel'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function ChannelsPage({ session }: PageProps) {
  const canEdit = atLeast(session.user.role, 'editor');
  const list = useLoad(() => rpc<{ channels?: Channel[] }>('AlertsService', 'ListChannels'), []);
  const [editing, setEditing] = useState<Channel | 'new' | null>(null);
  const [actionError, setActionError] = useState('');
  const remove = async (c: Channel) => {
    if (!window.confirm(`Delete channel ${c.name ?? c.id}?`)) return;
    setActionError('');
    try {
      await rpc('AlertsService', 'DeleteChannel', { id: c.id });
      list.reload();
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err));
    }
  };
  const [results, setResults] = useState<Record<string, { ok: boolean; detail: string } | 'sending'>>({});
  const test = async (id: string) => {
    setResults((r) => ({ ...r, [id]: 'sending' }));
    try {
      const r = await rpc<{ ok?: boolean; detail?: string }>('AlertsService', 'TestChannel', { id });
      setResults((x) => ({ ...x, [id]: { ok: r.ok === true, detail: r.detail ?? '' } }));
    } catch (err) {
      setResults((x) => ({ ...x, [id]: { ok: false, detail: err instanceof Error ? err.message : String(err) } }));
    }
  };
  const channels = list.data?.channels ?? [];
  return (
    <>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h1>Alert channels</h1>
        {canEdit && editing === null && <button onClick={() => setEditing('new')}>New channel</button>}
      </div>
      {editing !== null && (
        <ChannelForm
          key={editing === 'new' ? '' : editing.id}
          channel={editing === 'new' ? undefined : editing}
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
      {list.data && channels.length === 0 && <p className="muted">No channels configured.</p>}
      {channels.length > 0 && (
        <table aria-label="channels">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Settings</th>
              <th>Default</th>
              <th>Enabled</th>
              <th>Source</th>
              {canEdit && <th />}
            </tr>
          </thead>
          <tbody>
            {channels.map((c) => {
              const r = results[c.id];
              return (
                <tr key={c.id} data-channel={c.id}>
                  <td>{c.name}</td>
                  <td>{c.type}</td>
                  <td>
                    <code>{settingsText(c.settingsJson)}</code>
                  </td>
                  <td>{c.isDefault ? 'yes' : 'no'}</td>
                  <td>{c.enabled ? 'yes' : 'no'}</td>
                  <td>{c.source}</td>
                  {canEdit && (
                    <td>
                      <button disabled={r === 'sending'} onClick={() => void test(c.id)}>
                        Send test
                      </button>{' '}
                      {c.source === 'config' ? (
                        <small className="muted">managed in server.yml</small>
                      ) : (
                        <>
                          <button className="secondary" onClick={() => setEditing(c)}>
                            Edit
                          </button>{' '}
                          <button className="secondary" onClick={() => void remove(c)}>
                            Delete
                          </button>
                        </>
                      )}{' '}
                      {r !== undefined && r !== 'sending' && (
                        <span className={r.ok ? 'up' : 'down'} role="status">
                          {r.ok ? 'sent' : 'failed'}: {r.detail}
                        </span>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
